"""Ticket rules: who may see, open, move and assign tickets."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from ticketing.activity import service as activity
from ticketing.activity.models import LogLevel
from ticketing.configuration import service as configuration
from ticketing.errors import Conflict, Forbidden, InvalidInput, NotFound
from ticketing.ids import existing_id, input_id
from ticketing.pagination import Page, check_first, decode_cursor, page_of
from ticketing.realtime import channels, events
from ticketing.realtime.broker import Broker
from ticketing.realtime.outbox import change
from ticketing.realtime.shared_reads import SharedReads
from ticketing.tickets.models import (
    DESCRIPTION_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    Ticket,
    TicketPriority,
    TicketStatus,
)
from ticketing.users.models import User
from ticketing.users.permissions import may_see_ticket_of, require_admin
from ticketing.users.service import users_by_ids

CURSOR_KIND = "ticket"
SEARCH_MAX_LENGTH = 200
OWNER_READ_MAX_AGE_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class TicketFilter:
    statuses: list[TicketStatus] | None = None
    priorities: list[TicketPriority] | None = None
    owner_id: str | None = None
    assignee_id: str | None = None
    search: str | None = None


@dataclass(frozen=True, slots=True)
class StatusChange:
    ticket: Ticket
    previous_status: TicketStatus
    status: TicketStatus
    changed_by: User
    changed_at: datetime


def _text(value: str, field: str, max_length: int) -> str:
    cleaned = value.strip()
    if not 1 <= len(cleaned) <= max_length:
        raise InvalidInput(field, f"`{field}` needs 1 to {max_length} characters.")
    return cleaned


async def visible_ticket(
    *,
    viewer: User,
    ticket_id: str,
    connection: BaseDBAsyncClient | None = None,
    for_update: bool = False,
) -> Ticket:
    """The ticket if the viewer may see it; NOT_FOUND alike for missing and hidden ones."""
    query = Ticket.filter(id=existing_id(ticket_id, "ticket"))
    if not viewer.is_admin:
        query = query.filter(owner_id=viewer.id)
    if for_update:
        query = query.select_for_update()
    ticket = await query.using_db(connection).first()
    if ticket is None:
        raise NotFound("No ticket with this id.")
    return ticket


async def watchable_ticket_id(*, viewer: User, ticket_id: str, reads: SharedReads) -> int:
    """The id of a ticket the viewer may watch live; NOT_FOUND alike for missing and hidden ones.

    Who may see a ticket rests on its owner, which never changes, and tickets
    are never deleted: a row read in the last OWNER_READ_MAX_AGE_SECONDS
    decides as well as a new one. The subscribers of one ticket that connect
    together (a reconnect storm after a deploy) share one read.
    """
    pk = existing_id(ticket_id, "ticket")
    owner_id = await reads.get(
        ("ticket owner", pk),
        time.monotonic() - OWNER_READ_MAX_AGE_SECONDS,
        partial(_owner_of, pk),
    )
    if owner_id is None:
        # Not shared: a ticket created since that read exists now.
        owner_id = await _owner_of(pk)
    if owner_id is None or not may_see_ticket_of(viewer, owner_id):
        raise NotFound("No ticket with this id.")
    return pk


async def _owner_of(pk: int) -> int | None:
    found: list[Any] = await Ticket.filter(id=pk).limit(1).values_list("owner_id", flat=True)
    return int(found[0]) if found else None


async def create_ticket(
    *,
    actor: User,
    title: str,
    description: str,
    priority: TicketPriority,
    category: str | None,
    broker: Broker,
) -> Ticket:
    """Open a ticket, within the live configuration's categories and open-ticket quota."""
    title = _text(title, "title", TITLE_MAX_LENGTH)
    description = _text(description, "description", DESCRIPTION_MAX_LENGTH)
    async with change(broker) as work:
        connection = work.connection
        # Locking the owner's row makes concurrent creations by one user take
        # turns, so two of them cannot both pass the quota check. It must be the
        # first statement: under MySQL's REPEATABLE READ the first plain read fixes
        # the snapshot, and a snapshot older than the lock would miss the tickets
        # the other transactions just committed.
        await User.select_for_update().using_db(connection).get(id=actor.id)
        config = await configuration.current(connection)
        if category is not None and category not in config.ticket_categories:
            raise InvalidInput("category", "Choose one of the configured ticket categories.")
        open_tickets = (
            await Ticket.filter(owner_id=actor.id)
            .exclude(status=TicketStatus.CLOSED)
            .using_db(connection)
            .count()
        )
        if open_tickets >= config.max_open_tickets_per_user:
            raise Conflict(
                f"You already have {open_tickets} open tickets; close one before opening another."
            )
        ticket = await Ticket.create(
            title=title,
            description=description,
            priority=priority,
            category=category,
            owner_id=actor.id,
            using_db=connection,
        )
        await activity.record(
            work,
            level=LogLevel.INFO,
            event="ticket.created",
            message=f"Ticket {ticket.id} created by user {actor.id}.",
            actor=actor,
            ticket_id=ticket.id,
        )
        work.outbox.add([channels.TICKETS_CREATED], events.encode_ticket(ticket, actor, None))
    return ticket


async def update_status(
    *, actor: User, ticket_id: str, status: TicketStatus, broker: Broker
) -> StatusChange:
    """Admins set any status; the owner may only close. The row is locked meanwhile."""
    async with change(broker) as work:
        connection = work.connection
        ticket = await visible_ticket(
            viewer=actor, ticket_id=ticket_id, connection=connection, for_update=True
        )
        if not actor.is_admin and status != TicketStatus.CLOSED:
            raise Forbidden("You may close your ticket; other changes are for the support team.")
        if ticket.status == status:
            raise InvalidInput("status", f"The ticket is already {status.value}.")
        previous = ticket.status
        ticket.status = status
        ticket.closed_at = datetime.now(UTC) if status == TicketStatus.CLOSED else None
        await ticket.save(using_db=connection, update_fields=["status", "closed_at", "updated_at"])
        await activity.record(
            work,
            level=LogLevel.INFO,
            event="ticket.status_changed",
            message=f"Ticket {ticket.id} went from {previous.value} to {status.value} "
            f"by user {actor.id}.",
            actor=actor,
            ticket_id=ticket.id,
        )
        people = await users_by_ids([ticket.owner_id, ticket.assignee_id or ticket.owner_id])
        work.outbox.add(
            [
                channels.TICKETS_STATUS,
                channels.ticket_status(ticket.id),
                channels.owner_status(ticket.owner_id),
            ],
            events.encode_status_change(
                ticket,
                owner=people[ticket.owner_id],
                assignee=people.get(ticket.assignee_id) if ticket.assignee_id else None,
                previous_status=previous,
                changed_by=actor,
            ),
        )
    return StatusChange(
        ticket=ticket,
        previous_status=previous,
        status=status,
        changed_by=actor,
        changed_at=ticket.updated_at,
    )


async def assign(*, actor: User, ticket_id: str, assignee_id: str | None, broker: Broker) -> Ticket:
    """ADMIN only; the assignee must be an admin; None unassigns."""
    require_admin(actor)
    assignee: User | None = None
    if assignee_id is not None:
        assignee = await User.get_or_none(id=input_id(assignee_id, "assigneeId"))
        if assignee is None or not assignee.is_admin:
            raise InvalidInput("assigneeId", "Tickets can only be assigned to an admin.")
    async with change(broker) as work:
        ticket = await visible_ticket(
            viewer=actor, ticket_id=ticket_id, connection=work.connection, for_update=True
        )
        ticket.assignee_id = None if assignee is None else assignee.id
        await ticket.save(using_db=work.connection, update_fields=["assignee_id", "updated_at"])
        target = "nobody" if assignee is None else f"user {assignee.id}"
        await activity.record(
            work,
            level=LogLevel.INFO,
            event="ticket.assigned",
            message=f"Ticket {ticket.id} assigned to {target} by user {actor.id}.",
            actor=actor,
            ticket_id=ticket.id,
        )
    return ticket


def _filtered(viewer: User, ticket_filter: TicketFilter) -> QuerySet[Ticket]:
    query = Ticket.all()
    if not viewer.is_admin:
        query = query.filter(owner_id=viewer.id)  # filter.ownerId is ignored for a USER
    elif ticket_filter.owner_id is not None:
        query = query.filter(owner_id=input_id(ticket_filter.owner_id, "ownerId"))
    if ticket_filter.assignee_id is not None:
        query = query.filter(assignee_id=input_id(ticket_filter.assignee_id, "assigneeId"))
    if ticket_filter.statuses:
        query = query.filter(status__in=ticket_filter.statuses)
    if ticket_filter.priorities:
        query = query.filter(priority__in=ticket_filter.priorities)
    if ticket_filter.search is not None and ticket_filter.search.strip():
        words = _text(ticket_filter.search, "search", SEARCH_MAX_LENGTH)
        query = query.filter(Q(title__icontains=words) | Q(description__icontains=words))
    return query


async def list_tickets(
    *, viewer: User, first: int, after: str | None, ticket_filter: TicketFilter
) -> Page[Ticket]:
    """Newest first, keyset-paged on id."""
    check_first(first)
    query = _filtered(viewer, ticket_filter)
    after_id = decode_cursor(CURSOR_KIND, after)
    if after_id is not None:
        query = query.filter(id__lt=after_id)
    return page_of(await query.order_by("-id").limit(first + 1), first)


async def count_tickets(*, viewer: User, ticket_filter: TicketFilter) -> int:
    """All matches of the filter, whatever the page."""
    return await _filtered(viewer, ticket_filter).count()
