from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime

import strawberry

from ticketing.activity.models import LogEntry as LogEntryModel
from ticketing.activity.models import LogLevel
from ticketing.activity.service import CURSOR_KIND
from ticketing.graphql.context import Info
from ticketing.graphql.pagination import PageInfo, edges_of
from ticketing.graphql.users.types import User, user_now_or_later
from ticketing.pagination import Page
from ticketing.realtime.events import LogEvent
from ticketing.users.models import User as UserModel

# Registers the model enum under the contract's name; GraphQL shows the names.
strawberry.enum(LogLevel, name="LogLevel")


@strawberry.type(name="LogEntry")
class LogEntry:
    id: strawberry.ID
    level: LogLevel
    event: str
    message: str
    ticket_id: strawberry.ID | None
    created_at: datetime
    _actor_id: strawberry.Private[int | None]
    _actor: strawberry.Private[UserModel | None] = None

    @strawberry.field(graphql_type=User | None)
    def actor(self, info: Info) -> User | Awaitable[User | None] | None:
        return user_now_or_later(info, self._actor_id, self._actor)

    @classmethod
    def from_event(cls, event: LogEvent) -> LogEntry:
        entry = cls.from_model(event.entry)
        entry._actor = event.actor
        return entry

    @classmethod
    def from_model(cls, entry: LogEntryModel) -> LogEntry:
        return cls(
            id=strawberry.ID(str(entry.id)),
            level=entry.level,
            event=entry.event,
            message=entry.message,
            ticket_id=None if entry.ticket_id is None else strawberry.ID(str(entry.ticket_id)),
            created_at=entry.created_at,
            _actor_id=entry.actor_id,
        )


@strawberry.type
class LogEntryEdge:
    cursor: str
    node: LogEntry


@strawberry.type
class LogEntryConnection:
    edges: list[LogEntryEdge]
    page_info: PageInfo

    @classmethod
    def from_page(cls, page: Page[LogEntryModel]) -> LogEntryConnection:
        edges, page_info = edges_of(
            page,
            CURSOR_KIND,
            lambda cursor, e: LogEntryEdge(cursor=cursor, node=LogEntry.from_model(e)),
        )
        return cls(edges=edges, page_info=page_info)
