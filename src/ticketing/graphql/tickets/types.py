from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime

import strawberry

from ticketing.graphql.context import Info
from ticketing.graphql.loaders import MessagePageKey, NotLoaded, loaded
from ticketing.graphql.messages.types import MessageConnection
from ticketing.graphql.pagination import PageInfo, edges_of
from ticketing.graphql.users.types import User, existing_user_now_or_later, user_now_or_later
from ticketing.messages.service import CURSOR_KIND as MESSAGE_CURSOR
from ticketing.pagination import Page, check_first, decode_cursor
from ticketing.realtime.events import StatusChangeEvent, TicketEvent
from ticketing.tickets import service as tickets
from ticketing.tickets.models import Ticket as TicketModel
from ticketing.tickets.models import TicketPriority, TicketStatus
from ticketing.tickets.service import CURSOR_KIND, TicketFilter
from ticketing.users.models import User as UserModel

# Registers the model enums with strawberry under the contract's names.
strawberry.enum(TicketStatus, name="TicketStatus")
strawberry.enum(TicketPriority, name="TicketPriority")

MESSAGES_FIRST_DEFAULT = 50


@strawberry.type(name="Ticket")
class Ticket:
    id: strawberry.ID
    title: str
    description: str
    status: TicketStatus
    priority: TicketPriority
    category: str | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    _owner_id: strawberry.Private[int]
    _assignee_id: strawberry.Private[int | None]
    # Set when the ticket comes from an event, which carries the people in it.
    _owner: strawberry.Private[UserModel | None] = None
    _assignee: strawberry.Private[UserModel | None] = None

    @strawberry.field(graphql_type=User)
    def owner(self, info: Info) -> User | Awaitable[User]:
        return existing_user_now_or_later(info, self._owner_id, self._owner)

    @strawberry.field(graphql_type=User | None)
    def assignee(self, info: Info) -> User | Awaitable[User | None] | None:
        return user_now_or_later(info, self._assignee_id, self._assignee)

    @strawberry.field(description="Oldest first.", graphql_type=MessageConnection)
    def messages(
        self, info: Info, first: int | None = MESSAGES_FIRST_DEFAULT, after: str | None = None
    ) -> MessageConnection | Awaitable[MessageConnection]:
        key = message_page_key(int(self.id), first, after)
        page = loaded(info.context.loaders.message_pages, key)
        if isinstance(page, NotLoaded):
            return _load_messages(info, key)
        return MessageConnection.from_page(page)

    @classmethod
    def from_event(cls, event: TicketEvent) -> Ticket:
        ticket = cls.from_model(event.ticket)
        ticket._owner = event.owner
        ticket._assignee = event.assignee
        return ticket

    @classmethod
    def from_model(cls, ticket: TicketModel) -> Ticket:
        return cls(
            id=strawberry.ID(str(ticket.id)),
            title=ticket.title,
            description=ticket.description,
            status=ticket.status,
            priority=ticket.priority,
            category=ticket.category,
            created_at=ticket.created_at,
            updated_at=ticket.updated_at,
            closed_at=ticket.closed_at,
            _owner_id=ticket.owner_id,
            _assignee_id=ticket.assignee_id,
        )


def message_page_key(ticket_id: int, first: int | None, after: str | None) -> MessagePageKey:
    """What `Ticket.messages(first, after)` loads; BAD_USER_INPUT for bad arguments."""
    return MessagePageKey(
        ticket_id=ticket_id,
        first=check_first(MESSAGES_FIRST_DEFAULT if first is None else first),
        after_id=decode_cursor(MESSAGE_CURSOR, after),
    )


async def _load_messages(info: Info, key: MessagePageKey) -> MessageConnection:
    return MessageConnection.from_page(await info.context.loaders.message_pages.load(key))


@strawberry.type
class TicketEdge:
    cursor: str
    node: Ticket


@strawberry.type
class TicketConnection:
    edges: list[TicketEdge]
    page_info: PageInfo
    _viewer: strawberry.Private[UserModel]
    _filter: strawberry.Private[TicketFilter]

    @strawberry.field(description="All tickets matching the filter, not only this page.")
    async def total_count(self) -> int:
        # Counted only when asked for: a list view that shows no total saves a query.
        return await tickets.count_tickets(viewer=self._viewer, ticket_filter=self._filter)

    @classmethod
    def from_page(
        cls, page: Page[TicketModel], viewer: UserModel, ticket_filter: TicketFilter
    ) -> TicketConnection:
        edges, page_info = edges_of(
            page,
            CURSOR_KIND,
            lambda cursor, t: TicketEdge(cursor=cursor, node=Ticket.from_model(t)),
        )
        return cls(
            edges=edges,
            page_info=page_info,
            _viewer=viewer,
            _filter=ticket_filter,
        )


@strawberry.input(name="TicketFilter")
class TicketFilterInput:
    status: list[TicketStatus] | None = None
    priority: list[TicketPriority] | None = None
    owner_id: strawberry.ID | None = None
    assignee_id: strawberry.ID | None = None
    search: str | None = None

    def to_filter(self) -> TicketFilter:
        return TicketFilter(
            statuses=self.status,
            priorities=self.priority,
            owner_id=self.owner_id,
            assignee_id=self.assignee_id,
            search=self.search,
        )


@strawberry.input
class CreateTicketInput:
    title: str
    description: str
    priority: TicketPriority | None = TicketPriority.NORMAL
    category: str | None = None


@strawberry.input
class UpdateTicketStatusInput:
    ticket_id: strawberry.ID
    status: TicketStatus


@strawberry.input
class AssignTicketInput:
    ticket_id: strawberry.ID
    assignee_id: strawberry.ID | None = None


@strawberry.type
class TicketStatusChange:
    ticket: Ticket
    previous_status: TicketStatus
    status: TicketStatus
    changed_by: User
    changed_at: datetime

    @classmethod
    def from_event(cls, event: StatusChangeEvent) -> TicketStatusChange:
        return cls(
            ticket=Ticket.from_event(event.ticket),
            previous_status=event.previous_status,
            status=event.status,
            changed_by=User.from_model(event.changed_by),
            changed_at=event.changed_at,
        )
