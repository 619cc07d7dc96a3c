from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime

import strawberry

from ticketing.graphql.context import Info
from ticketing.graphql.pagination import PageInfo, edges_of
from ticketing.graphql.users.types import User, existing_user_now_or_later
from ticketing.messages.models import Message as MessageModel
from ticketing.messages.service import CURSOR_KIND
from ticketing.pagination import Page
from ticketing.realtime.events import MessageEvent
from ticketing.users.models import User as UserModel


@strawberry.type(name="Message")
class Message:
    id: strawberry.ID
    ticket_id: strawberry.ID
    body: str
    created_at: datetime
    _author_id: strawberry.Private[int]
    _author: strawberry.Private[UserModel | None] = None

    @strawberry.field(graphql_type=User)
    def author(self, info: Info) -> User | Awaitable[User]:
        return existing_user_now_or_later(info, self._author_id, self._author)

    @classmethod
    def from_event(cls, event: MessageEvent) -> Message:
        message = cls.from_model(event.message)
        message._author = event.author
        return message

    @classmethod
    def with_author(cls, message: MessageModel) -> Message:
        """From a message read with `select_related("author")`."""
        graph = cls.from_model(message)
        graph._author = message.author
        return graph

    @classmethod
    def from_model(cls, message: MessageModel) -> Message:
        return cls(
            id=strawberry.ID(str(message.id)),
            ticket_id=strawberry.ID(str(message.ticket_id)),
            body=message.body,
            created_at=message.created_at,
            _author_id=message.author_id,
        )


@strawberry.type
class MessageEdge:
    cursor: str
    node: Message


@strawberry.type
class MessageConnection:
    edges: list[MessageEdge]
    page_info: PageInfo

    @classmethod
    def from_page(cls, page: Page[MessageModel]) -> MessageConnection:
        edges, page_info = edges_of(
            page,
            CURSOR_KIND,
            lambda cursor, m: MessageEdge(cursor=cursor, node=Message.from_model(m)),
        )
        return cls(edges=edges, page_info=page_info)


@strawberry.input
class SendMessageInput:
    ticket_id: strawberry.ID
    body: str
