"""asyncio.Queue and asyncio.Event, cut down to what one long-lived consumer needs.

Every socket and every subscription holds a few of these for hours. An
asyncio.Queue is four deques (its items, getters, putters, and the waiters of
its `join` event) and an asyncio.Event one more: about 760 bytes each, empty,
so ~3.8 KB per socket before anything is queued. These hold a list and at most
one future each, made only while someone waits.
"""

from __future__ import annotations

import asyncio
from typing import Generic, TypeVar

T = TypeVar("T")


class Inbox(Generic[T]):
    """A FIFO without bound for one consumer at a time: `put_nowait` and `await get()`."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: list[T] = []
        self._waiter: asyncio.Future[None] | None = None

    @property
    def idle(self) -> bool:
        """Its consumer waits in `get`, and nothing is queued."""
        return self.wait_token() is not None

    def wait_token(self) -> object | None:
        """While the consumer waits with nothing queued: a token of this wait, else None.

        The token stays the same until the consumer wakes (each wait is a new
        one), so a token seen twice means the consumer did not run in between.
        """
        waiter = self._waiter
        return waiter if waiter is not None and not waiter.done() else None

    def empty(self) -> bool:
        return not self._items

    def qsize(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        """Drop what is queued."""
        self._items.clear()

    def put_nowait(self, item: T) -> None:
        self._items.append(item)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def get(self) -> T:
        if self._waiter is not None:
            raise RuntimeError("Inbox.get: another task is already waiting")
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.pop(0)


class Flag:
    """An asyncio.Event whose waiters list exists only while someone waits."""

    __slots__ = ("_is_set", "_waiters")

    def __init__(self, *, is_set: bool = False) -> None:
        self._is_set = is_set
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._is_set

    def set(self) -> None:
        self._is_set = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._is_set = False

    async def wait(self) -> bool:
        if self._is_set:
            return True
        waiter = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(waiter)
        try:
            await waiter
        finally:
            if self._waiters is not None and waiter in self._waiters:
                self._waiters.remove(waiter)
        return True
