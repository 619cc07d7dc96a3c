"""In-process fan-out: each local listener gets the messages of its channels.

The hub knows which channels have local listeners, so a broker subscribes to a
channel upstream (Redis) only while someone here needs it, and once per process
however many listeners share it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
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
        return await self._queue.get()

    def __aiter__(self) -> Listener:
        return self

    async def __anext__(self) -> Delivery:
        return await self._queue.get()


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

    async def add(self, channels: Iterable[str], max_queued: int) -> Listener:
        listener = Listener(frozenset(channels), max_queued)
        for channel in listener.channels:
            group = self._listeners.setdefault(channel, set())
            group.add(listener)
            if len(group) == 1:
                await self._on_first(channel)
        return listener

    async def remove(self, listener: Listener) -> None:
        for channel in listener.channels:
            group = self._listeners.get(channel)
            if group is None:
                continue
            group.discard(listener)
            if not group:
                del self._listeners[channel]
                await self._on_last(channel)

    def dispatch(self, channel: str, data: str) -> None:
        message = Message(channel, data)
        for listener in tuple(self._listeners.get(channel, ())):
            listener.deliver(message)

    def signal_gap(self) -> None:
        for listener in {lst for group in self._listeners.values() for lst in group}:
            listener.deliver(GAP)
