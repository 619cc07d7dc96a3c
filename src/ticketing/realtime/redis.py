"""The Redis broker: one pub/sub connection per process, fanned out in-process.

Exact channels only (PUBLISH costs grow with pattern subscriptions). A channel
is subscribed upstream while at least one local listener needs it. When the
connection drops, the reader reconnects with backoff, subscribes again to every
channel still needed, and then tells every listener there may be a gap:
pub/sub is at-most-once, so whatever was published meanwhile is gone, and the
chat subscriptions replay it from the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from ticketing.realtime.broker import DEFAULT_MAX_QUEUED
from ticketing.realtime.hub import Hub, Listener

logger = logging.getLogger(__name__)

READ_TIMEOUT_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 5.0


class RedisBroker:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix
        self._hub = Hub(on_first=self._subscribe, on_last=self._unsubscribe)
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._upstream: set[str] = set()

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

    @asynccontextmanager
    async def listen(
        self, channels: Iterable[str], max_queued: int = DEFAULT_MAX_QUEUED
    ) -> AsyncIterator[Listener]:
        listener = await self._hub.add(channels, max_queued)
        try:
            yield listener
        finally:
            await self._hub.remove(listener)

    def stats(self) -> dict[str, int]:
        return {
            "listeners": self._hub.listener_count,
            "channels": len(self._hub.channels),
            "upstream_channels": len(self._upstream),
        }

    async def _subscribe(self, channel: str) -> None:
        pubsub = self._pubsub
        if pubsub is None:
            return  # not connected: the reader subscribes to every needed channel on connect
        try:
            await pubsub.subscribe(self._prefix + channel)
            self._upstream.add(channel)
        except (RedisError, OSError):
            logger.warning("Redis broker: subscribe failed; it is retried on reconnect")

    async def _unsubscribe(self, channel: str) -> None:
        self._upstream.discard(channel)
        pubsub = self._pubsub
        if pubsub is None:
            return
        try:
            await pubsub.unsubscribe(self._prefix + channel)
        except (RedisError, OSError):
            logger.warning("Redis broker: unsubscribe failed; the connection is renewed")

    async def _read_forever(self) -> None:
        backoff = 0.1
        first_connection = True
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                # Published first, so a listener added from here on subscribes
                # itself; the ones already there are subscribed below.
                self._pubsub = pubsub
                # A pub/sub connection must hold a subscription to be read from.
                await pubsub.subscribe(self._prefix + "broker.keepalive")
                needed = self._hub.channels
                if needed:
                    await pubsub.subscribe(*(self._prefix + c for c in needed))
                self._upstream |= set(needed)
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
                self._pubsub = None
                self._upstream = set()
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)

    async def _read(self, pubsub: PubSub) -> None:
        prefix_length = len(self._prefix)
        while True:
            message = await pubsub.get_message(timeout=READ_TIMEOUT_SECONDS)
            if message is None or message["type"] != "message":
                continue
            self._hub.dispatch(message["channel"][prefix_length:], message["data"])
