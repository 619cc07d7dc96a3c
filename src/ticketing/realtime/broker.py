"""The broker interface: publish to a channel; listen to channels. Picked by URL."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from ticketing.realtime.hub import Listener

# A listener that falls this far behind is reset with a gap rather than grow.
DEFAULT_MAX_QUEUED = 256


class Broker(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def publish(self, channel: str, data: str) -> None:
        """Send to every listener of `channel` in every process (at most once)."""
        ...

    async def publish_all(self, messages: Sequence[tuple[str, str]]) -> None:
        """`publish` each (channel, data) in order, in one round trip where there is one."""
        ...

    def listen(
        self, channels: Iterable[str], max_queued: int = DEFAULT_MAX_QUEUED
    ) -> AbstractAsyncContextManager[Listener]:
        """Receive what is published to `channels` while the context is open."""
        ...

    def stats(self) -> dict[str, int]:
        """Local listeners and upstream channel subscriptions (for diagnostics)."""
        ...

    def routes(self) -> dict[str, int]:
        """How this process's deliveries went: written directly or queued, and why.

        `Hub.route_counts`, for /diagnostics.
        """
        ...
