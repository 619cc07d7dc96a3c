"""The in-process broker of the embedded default: one process, no Redis."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager

from ticketing.realtime.broker import DEFAULT_MAX_QUEUED
from ticketing.realtime.hub import Hub, Listener
from ticketing.realtime.ordering import ChatOrder


async def _nothing(_: str) -> None:
    return None


class MemoryBroker:
    def __init__(self) -> None:
        self._hub = Hub(on_first=_nothing, on_last=_nothing, ordering=ChatOrder)

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def publish(self, channel: str, data: str) -> None:
        self._hub.dispatch(channel, data)

    async def publish_all(self, messages: Sequence[tuple[str, str]]) -> None:
        for channel, data in messages:
            self._hub.dispatch(channel, data)

    def listen(
        self, channels: Iterable[str], max_queued: int = DEFAULT_MAX_QUEUED
    ) -> AbstractAsyncContextManager[Listener]:
        return self._hub.listening(channels, max_queued)

    def routes(self) -> dict[str, int]:
        return self._hub.route_counts()

    def stats(self) -> dict[str, int]:
        return {"listeners": self._hub.listener_count, "channels": len(self._hub.channels)}
