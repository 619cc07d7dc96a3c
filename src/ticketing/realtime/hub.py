"""In-process fan-out: each local listener gets the messages of its channels.

The hub knows which channels have local listeners, so a broker subscribes to a
channel upstream (Redis) only while someone here needs it, and once per process
however many listeners share it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Message:
    channel: str
    data: str


class Gap:
    """Events may have been lost (upstream reconnected, or this listener fell behind)."""


GAP = Gap()
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
            self._queue.put_nowait(GAP)

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
        for listener in {lst for group in self._listeners.values() for lst in group}:
            listener.deliver(GAP)
