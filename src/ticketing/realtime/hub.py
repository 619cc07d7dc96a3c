"""In-process fan-out: each local listener gets the messages of its channels.

The hub knows which channels have local listeners, so a broker subscribes to a
channel upstream (Redis) only while someone here needs it, and once per process
however many listeners share it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TypeVar, cast

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Message:
    """One published message, handed as this very object to every local listener.

    `received_at` (monotonic) is when this process got it. `shared` lets its
    listeners make what they all need of it (the decoded event, the GraphQL
    object they yield) once instead of once each.
    """

    channel: str
    data: str
    received_at: float = field(default_factory=time.monotonic, compare=False)
    _made: dict[str, object] = field(default_factory=dict, compare=False, repr=False)

    def shared(self, kind: str, make: Callable[[], T]) -> T:
        """`make()` the first time a listener asks for `kind`; the same object afterwards."""
        if kind not in self._made:
            self._made[kind] = make()
        return cast("T", self._made[kind])


@dataclass(frozen=True, slots=True)
class Gap:
    """Events may have been lost (upstream reconnected, or this listener fell behind).

    Whatever was lost was committed before `at` (monotonic): a database read
    started after it sees all of it.
    """

    at: float = field(default_factory=time.monotonic, compare=False)


Delivery = Message | Gap
ChannelHook = Callable[[str], Awaitable[None]]


class Listener:
    """One subscriber's bounded queue over one or more channels."""

    def __init__(self, channels: frozenset[str], max_queued: int) -> None:
        self.channels = channels
        self._queue: asyncio.Queue[Delivery] = asyncio.Queue(max_queued)

    def deliver(self, item: Delivery) -> None:
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            # A consumer this far behind is not buffered without bound: what is
            # queued is dropped and it is told so (chat replays from the database).
            while not self._queue.empty():
                self._queue.get_nowait()
            self._queue.put_nowait(Gap())

    async def next(self) -> Delivery:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            # The task was told to stop, but an await on the way here swallowed
            # the CancelledError (asyncio.wait_for in Python 3.11 can, inside
            # database drivers: CPython gh-86296). Waiting now would wait for
            # ever on a socket that is gone; stop as the caller asked.
            raise asyncio.CancelledError
        return await self._queue.get()

    def __aiter__(self) -> Listener:
        return self

    async def __anext__(self) -> Delivery:
        return await self.next()


class Hub:
    def __init__(self, on_first: ChannelHook, on_last: ChannelHook) -> None:
        self._listeners: dict[str, set[Listener]] = {}
        self._on_first = on_first
        self._on_last = on_last

    @property
    def channels(self) -> list[str]:
        return list(self._listeners)

    @property
    def listener_count(self) -> int:
        return len({id(lst) for group in self._listeners.values() for lst in group})

    @asynccontextmanager
    async def listening(self, channels: Iterable[str], max_queued: int) -> AsyncIterator[Listener]:
        """A listener for as long as the context lasts, however the context ends.

        The bookkeeping is done before any await, so a task cancelled while the
        upstream (un)subscribe is in flight still leaves nothing behind.
        """
        listener = Listener(frozenset(channels), max_queued)
        try:
            for channel in self._register(listener):
                await self._on_first(channel)
            yield listener
        finally:
            for channel in self._unregister(listener):
                await self._on_last(channel)

    def _register(self, listener: Listener) -> list[str]:
        new_channels = []
        for channel in listener.channels:
            group = self._listeners.setdefault(channel, set())
            group.add(listener)
            if len(group) == 1:
                new_channels.append(channel)
        return new_channels

    def _unregister(self, listener: Listener) -> list[str]:
        emptied = []
        for channel in listener.channels:
            group = self._listeners.get(channel)
            if group is None or listener not in group:
                continue
            group.discard(listener)
            if not group:
                del self._listeners[channel]
                emptied.append(channel)
        return emptied

    def dispatch(self, channel: str, data: str) -> None:
        message = Message(channel, data)
        for listener in tuple(self._listeners.get(channel, ())):
            listener.deliver(message)

    def signal_gap(self) -> None:
        gap = Gap()
        for listener in {lst for group in self._listeners.values() for lst in group}:
            listener.deliver(gap)
