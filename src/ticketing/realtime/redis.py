"""The Redis broker: one pub/sub connection per process, fanned out in-process.

Exact channels only (PUBLISH costs grow with pattern subscriptions). A channel
is subscribed upstream while at least one local listener needs it.

Only the reader task touches the pub/sub connection (redis-py's PubSub is not
safe to share between tasks: a subscribe cancelled midway can leave the
connection waiting forever). Listeners just mark the wanted channels as
changed; the reader subscribes and unsubscribes between reads, and a new
listener waits for Redis to confirm its channel, so that nothing published
after `listen()` returns is missed.

When the connection drops, the reader reconnects with backoff, subscribes again
to every channel still needed, and then tells every listener there may be a
gap: pub/sub is at-most-once, so whatever was published meanwhile is gone, and
the chat subscriptions replay it from the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from ticketing.realtime.broker import DEFAULT_MAX_QUEUED
from ticketing.realtime.hub import Hub, Listener
from ticketing.realtime.ordering import ChatOrder

logger = logging.getLogger(__name__)

# How long the reader waits for a message before it looks at wanted channels.
POLL_SECONDS = 0.05
MAX_BACKOFF_SECONDS = 5.0
# A new listener waits at most this long for Redis to confirm its channel; while
# Redis is down it goes on (the gap signal after the reconnect covers it).
CONFIRM_SECONDS = 2.0
KEEPALIVE_CHANNEL = "broker.keepalive"


class RedisBroker:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix
        self._hub = Hub(on_first=self._wanted, on_last=self._unwanted, ordering=ChatOrder)
        self._reader: asyncio.Task[None] | None = None
        self._upstream: set[str] = set()
        self._dirty = False
        self._confirmations: dict[str, list[asyncio.Future[None]]] = {}

    async def start(self) -> None:
        self._reader = asyncio.create_task(self._read_forever(), name="redis-broker-reader")

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None

    async def publish(self, channel: str, data: str) -> None:
        await self._redis.publish(self._prefix + channel, data)

    async def publish_all(self, messages: Sequence[tuple[str, str]]) -> None:
        if len(messages) == 1:
            await self.publish(*messages[0])
            return
        # One connection and one round trip (not MULTI: nothing needs to be atomic,
        # and Redis runs a connection's commands in the order they came).
        async with self._redis.pipeline(transaction=False) as pipe:
            for channel, data in messages:
                pipe.publish(self._prefix + channel, data)
            await pipe.execute()

    def listen(
        self, channels: Iterable[str], max_queued: int = DEFAULT_MAX_QUEUED
    ) -> AbstractAsyncContextManager[Listener]:
        return self._hub.listening(channels, max_queued)

    def routes(self) -> dict[str, int]:
        return self._hub.route_counts()

    def stats(self) -> dict[str, int]:
        return {
            "listeners": self._hub.listener_count,
            "channels": len(self._hub.channels),
            "upstream_channels": len(self._upstream),
        }

    async def _wanted(self, channel: str) -> None:
        """Called in the listener's task: ask the reader, then wait for Redis to confirm."""
        confirmed = asyncio.get_running_loop().create_future()
        self._confirmations.setdefault(channel, []).append(confirmed)
        self._dirty = True
        with contextlib.suppress(TimeoutError):
            # shield: a listener that gives up must not cancel the others' future
            await asyncio.wait_for(asyncio.shield(confirmed), CONFIRM_SECONDS)

    async def _unwanted(self, channel: str) -> None:
        self._dirty = True  # the reader unsubscribes; the listener never waits on Redis

    async def _read_forever(self) -> None:
        backoff = 0.1
        first_connection = True
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(self._prefix + KEEPALIVE_CHANNEL)
                self._upstream = set()
                self._dirty = True
                await self._reconcile(pubsub)
                if not first_connection:
                    logger.warning("Redis broker: reconnected; listeners replay what they missed")
                    self._hub.signal_gap()
                first_connection = False
                backoff = 0.1
                await self._read(pubsub)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as error:
                logger.warning("Redis broker: connection lost (%s); reconnecting", error)
            finally:
                self._upstream = set()
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)

    async def _read(self, pubsub: PubSub) -> None:
        prefix_length = len(self._prefix)
        while True:
            message = await pubsub.get_message(timeout=POLL_SECONDS)
            if message is not None:
                kind = message["type"]
                channel = message["channel"][prefix_length:]
                if kind == "message":
                    self._hub.dispatch(channel, message["data"])
                elif kind == "subscribe":
                    self._confirm(channel)
            if self._dirty:
                await self._reconcile(pubsub)

    async def _reconcile(self, pubsub: PubSub) -> None:
        """Make the upstream subscriptions match what the listeners need now."""
        self._dirty = False
        needed = set(self._hub.channels)
        missing, surplus = needed - self._upstream, self._upstream - needed
        if surplus:
            self._upstream -= surplus
            await pubsub.unsubscribe(*(self._prefix + c for c in surplus))
        if missing:
            self._upstream |= missing
            await pubsub.subscribe(*(self._prefix + c for c in missing))
        for channel in list(self._confirmations):
            if channel in self._upstream and channel not in missing:
                self._confirm(channel)  # subscribed before: nothing more to wait for
            elif channel not in needed:
                self._confirm(channel)  # its listener left already

    def _confirm(self, channel: str) -> None:
        for waiting in self._confirmations.pop(channel, ()):
            if not waiting.done():
                waiting.set_result(None)
