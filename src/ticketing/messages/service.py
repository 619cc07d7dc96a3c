"""Chat messages inside a ticket: who may write, and reading them in id order."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from ticketing.activity import service as activity
from ticketing.activity.models import LogLevel
from ticketing.configuration import service as configuration
from ticketing.errors import Conflict, InvalidInput
from ticketing.messages.models import Message
from ticketing.pagination import Page, check_first, page_of
from ticketing.realtime import channels, events
from ticketing.realtime.broker import Broker
from ticketing.realtime.outbox import change
from ticketing.tickets import service as tickets
from ticketing.tickets.models import TicketStatus
from ticketing.users.models import User

CURSOR_KIND = "message"

# A window function numbers each ticket's messages, so one statement returns the
# first page of every ticket asked for. Only ints we produced are filled in.
_FIRST_PAGES_SQL = (
    "SELECT id, ticket_id, author_id, body, created_at FROM ("
    " SELECT id, ticket_id, author_id, body, created_at,"
    " ROW_NUMBER() OVER (PARTITION BY ticket_id ORDER BY id) AS position"
    " FROM messages WHERE ticket_id IN ({ticket_ids}) {after}"
    ") numbered WHERE position <= {limit} ORDER BY ticket_id, id"
)


async def send_message(*, actor: User, ticket_id: str, body: str, broker: Broker) -> Message:
    """The owner and admins write; a CLOSED ticket takes no messages."""
    text = body.strip()
    async with change(broker) as work:
        connection = work.connection
        # The ticket row stays locked until commit, so the messages of one ticket
        # commit in id order: a client resuming "after id N" cannot miss one.
        ticket = await tickets.visible_ticket(
            viewer=actor, ticket_id=ticket_id, connection=connection, for_update=True
        )
        limit = (await configuration.current(connection)).max_message_length
        if not 1 <= len(text) <= limit:
            raise InvalidInput("body", f"A message needs 1 to {limit} characters.")
        if ticket.status == TicketStatus.CLOSED:
            raise Conflict("This ticket is closed and takes no more messages.")
        previous_id = await latest_id(ticket.id, connection)
        message = await Message.create(
            ticket_id=ticket.id, author_id=actor.id, body=text, using_db=connection
        )
        await activity.record(
            work,
            level=LogLevel.DEBUG,
            event="message.sent",
            message=f"Message {message.id} sent on ticket {ticket.id} by user {actor.id}.",
            actor=actor,
            ticket_id=ticket.id,
        )
        work.outbox.add(
            [channels.ticket_messages(ticket.id)],
            events.encode_message(message, actor, ticket.owner_id, previous_id),
        )
    return message


async def latest_id(ticket_id: int, connection: BaseDBAsyncClient | None = None) -> int | None:
    """The id of the ticket's newest message, if any."""
    found: list[Any] = await (
        Message.filter(ticket_id=ticket_id)
        .using_db(connection)
        .order_by("-id")
        .limit(1)
        .values_list("id", flat=True)
    )
    return found[0] if found else None


async def messages_after(*, ticket_id: int, after_id: int | None, limit: int) -> list[Message]:
    """Up to `limit` of the ticket's messages with an id above `after_id`, oldest first.

    With their authors: a chat replay shows them, and one join beats a query
    per subscriber for each.
    """
    query = Message.filter(ticket_id=ticket_id)
    if after_id is not None:
        query = query.filter(id__gt=after_id)
    return await query.order_by("id").limit(limit).select_related("author")


async def first_pages(
    *, ticket_ids: Iterable[int], first: int, after_id: int | None
) -> dict[int, Page[Message]]:
    """The first page of messages of many tickets, in one statement.

    Only called for tickets the viewer was already allowed to load.
    """
    check_first(first)
    ids = sorted({int(ticket_id) for ticket_id in ticket_ids})
    if not ids:
        return {}
    sql = _FIRST_PAGES_SQL.format(
        ticket_ids=", ".join(map(str, ids)),
        after=f"AND id > {int(after_id)}" if after_id is not None else "",
        limit=first + 1,
    )
    rows: dict[int, list[Message]] = {ticket_id: [] for ticket_id in ids}
    found: list[Message] = await Message.raw(sql)
    for message in found:
        rows[message.ticket_id].append(message)
    return {ticket_id: page_of(page, first) for ticket_id, page in rows.items()}
