"""DataLoaders: one batched query per kind of row, whatever the page size.

Over HTTP they live for one request and cache within it. A WebSocket context
lives as long as the socket, so there they batch but never cache (a cached row
would be served stale to the next operation).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from strawberry.dataloader import DataLoader

from ticketing.messages import service as messages
from ticketing.messages.models import Message
from ticketing.pagination import Page
from ticketing.users import service as users
from ticketing.users.models import User

KeyT = TypeVar("KeyT", bound=Hashable)
ValueT = TypeVar("ValueT")


class NotLoaded:
    """What `loaded` answers for a key whose value is not at hand yet."""


NOT_LOADED = NotLoaded()


@dataclass(frozen=True, slots=True)
class MessagePageKey:
    ticket_id: int
    first: int
    after_id: int | None


async def _load_users(ids: Sequence[int]) -> list[User | None]:
    found = await users.users_by_ids(ids)
    return [found.get(user_id) for user_id in ids]


async def _load_message_pages(keys: Sequence[MessagePageKey]) -> list[Page[Message]]:
    # Tickets of one page ask with the same arguments: one statement per group.
    groups: dict[tuple[int, int | None], list[int]] = defaultdict(list)
    for key in keys:
        groups[(key.first, key.after_id)].append(key.ticket_id)
    pages: dict[MessagePageKey, Page[Message]] = {}
    for (first, after_id), ticket_ids in groups.items():
        found = await messages.first_pages(ticket_ids=ticket_ids, first=first, after_id=after_id)
        for ticket_id, page in found.items():
            pages[MessagePageKey(ticket_id, first, after_id)] = page
    return [pages[key] for key in keys]


def loaded(loader: DataLoader[KeyT, ValueT], key: KeyT) -> ValueT | NotLoaded:
    """The value a caching loader already holds for `key`, without waiting.

    NOT_LOADED when the key was never asked for, is still loading or failed
    (awaiting `load` then raises the failure), or the loader does not cache.
    """
    if not loader.cache:
        return NOT_LOADED
    future = loader.cache_map.get(key)
    if future is None or not future.done() or future.cancelled() or future.exception():
        return NOT_LOADED
    return future.result()


class Loaders:
    def __init__(self, *, cache: bool) -> None:
        # Loading ahead only pays where the loaded rows are kept for the children.
        self.cache = cache
        self.users: DataLoader[int, User | None] = DataLoader(load_fn=_load_users, cache=cache)
        self.message_pages: DataLoader[MessagePageKey, Page[Message]] = DataLoader(
            load_fn=_load_message_pages, cache=cache
        )

    async def users_ahead(self, ids: Iterable[int | None]) -> None:
        """Loads these users now, in one statement, for fields that will ask for them.

        Only where loaded rows are kept (HTTP); elsewhere each field loads its own.
        """
        wanted = sorted({user_id for user_id in ids if user_id is not None})
        if self.cache and wanted:
            await self.users.load_many(wanted)
