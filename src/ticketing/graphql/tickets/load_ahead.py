"""Loads what a list of tickets will be asked for, before its fields are resolved.

Without it a page of 20 tickets resolves some 140 fields through awaitables
(owner, assignee, messages, each author, each email), and graphql-core pays
a task and a gather for each. Loaded ahead through the same loaders (so in
the same statements: users, message pages, authors), every one of those
fields answers at once. Anything not loaded here is still loaded by its field.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from ticketing.errors import InvalidInput
from ticketing.graphql.context import Info
from ticketing.graphql.loaders import MessagePageKey
from ticketing.graphql.lookahead import arguments_at, asks_for
from ticketing.graphql.tickets.types import message_page_key
from ticketing.tickets.models import Ticket

# Where the tickets sit below the resolved field: `tickets` gives a connection.
IN_CONNECTION = ("edges", "node")
AT_FIELD = ()


async def load_ahead(info: Info, tickets: Sequence[Ticket], below: tuple[str, ...]) -> None:
    """Loads the people and message pages selected on these tickets, as their fields would."""
    loaders = info.context.loaders
    if not loaders.cache or not tickets:
        return
    user_ids: set[int | None] = set()
    if asks_for(info, (*below, "owner")):
        user_ids.update(ticket.owner_id for ticket in tickets)
    if asks_for(info, (*below, "assignee")):
        user_ids.update(ticket.assignee_id for ticket in tickets)
    page_keys = [
        key
        for arguments in arguments_at(info, (*below, "messages"))
        for key in _page_keys(tickets, arguments)
    ]
    _, pages = await asyncio.gather(
        loaders.users_ahead(user_ids),
        loaders.message_pages.load_many(page_keys),
    )
    if asks_for(info, (*below, "messages", "edges", "node", "author")):
        await loaders.users_ahead(message.author_id for page in pages for message in page.items)


def _page_keys(tickets: Sequence[Ticket], arguments: dict[str, Any]) -> list[MessagePageKey]:
    first, after = arguments.get("first"), arguments.get("after")
    try:
        return [message_page_key(ticket.id, first, after) for ticket in tickets]
    except InvalidInput:
        return []  # the field itself answers with the error, where the client asked
