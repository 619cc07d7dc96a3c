"""Open WebSockets per user: slots claimed at connect, given back at close, capped.

In-process the slots are a set per user. With Redis they hold across every
instance: each user has a sorted set of slots scored by the time they lapse.
Claiming (drop lapsed slots, count, add) is one Lua script on Redis's clock, so
sockets opening at once on several instances cannot overshoot the cap. A
process renews its own slots every third of their lifetime while it holds any,
so the slots of a process that died without giving them back lapse within
SLOT_TTL_SECONDS instead of counting for ever.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

SLOT_TTL_SECONDS = 60


@dataclass(frozen=True, slots=True)
class Slot:
    user_id: int
    token: str


class ConnectionCounter(Protocol):
    async def claim(self, user_id: int, limit: int) -> Slot | None:
        """A slot for one more socket of `user_id`; None when `limit` are open."""
        ...

    async def release(self, slot: Slot) -> None:
        """Give the slot back (the socket closed)."""
        ...


class MemoryConnectionCounter:
    def __init__(self) -> None:
        self._held: dict[int, set[str]] = {}

    async def claim(self, user_id: int, limit: int) -> Slot | None:
        held = self._held.get(user_id, set())
        if len(held) >= limit:
            return None
        slot = Slot(user_id, uuid.uuid4().hex)
        self._held[user_id] = held | {slot.token}
        return slot

    async def release(self, slot: Slot) -> None:
        held = self._held.get(slot.user_id, set()) - {slot.token}
        if held:
            self._held[slot.user_id] = held
        else:
            self._held.pop(slot.user_id, None)


# KEYS[1]: the user's slots. ARGV: limit, ttl, token. 1 if claimed, 0 if full.
# Redis's clock to the microsecond: whole seconds would cut a slot's life by up to one.
_CLAIM = """
local time = redis.call('TIME')
local now = tonumber(time[1]) + tonumber(time[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
"""

# KEYS[1]: the user's slots. ARGV: ttl, tokens... (only slots still there are renewed).
_RENEW = """
local time = redis.call('TIME')
local lapses = tonumber(time[1]) + tonumber(time[2]) / 1000000 + tonumber(ARGV[1])
for i = 2, #ARGV do
  redis.call('ZADD', KEYS[1], 'XX', lapses, ARGV[i])
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1
"""


class RedisConnectionCounter:
    def __init__(self, redis: Redis, prefix: str, ttl_seconds: int = SLOT_TTL_SECONDS) -> None:
        self._redis = redis
        self._prefix = prefix
        self._ttl = ttl_seconds
        self._claim = redis.register_script(_CLAIM)
        self._renew = redis.register_script(_RENEW)
        self._held: dict[int, set[str]] = {}  # this process's slots, renewed while held
        self._renewer: asyncio.Task[None] | None = None
        self._to_release: dict[int, set[str]] = {}
        self._releasing: asyncio.Future[None] | None = None

    def _key(self, user_id: int) -> str:
        return f"{self._prefix}ws_connections:{user_id}"

    async def claim(self, user_id: int, limit: int) -> Slot | None:
        slot = Slot(user_id, uuid.uuid4().hex)
        if not await self._claim(keys=[self._key(user_id)], args=[limit, self._ttl, slot.token]):
            return None
        self._held.setdefault(user_id, set()).add(slot.token)
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.create_task(self._renew_while_held(), name="ws-slot-renewer")
        return slot

    async def release(self, slot: Slot) -> None:
        held = self._held.get(slot.user_id, set())
        held.discard(slot.token)
        if not held:
            self._held.pop(slot.user_id, None)
        if not self._held and self._renewer is not None:
            self._renewer.cancel()  # nothing left to renew; no task lingers
            self._renewer = None
        # Sockets closing together (a deploy, a network blip) give their slots
        # back in one round trip, not one Redis command each: thousands at once
        # emptied the connection pool and their slots lapsed instead.
        self._to_release.setdefault(slot.user_id, set()).add(slot.token)
        if self._releasing is None:
            self._releasing = asyncio.ensure_future(self._release_pending())
            self._releasing.add_done_callback(_retrieve)
        await asyncio.shield(self._releasing)

    async def _release_pending(self) -> None:
        await asyncio.sleep(0)  # gather the releases of this moment
        batch, self._to_release = self._to_release, {}
        self._releasing = None  # releases from now on make the next batch
        async with self._redis.pipeline(transaction=False) as pipe:
            for user_id, tokens in batch.items():
                pipe.zrem(self._key(user_id), *tokens)
            await pipe.execute()

    async def _renew_while_held(self) -> None:
        while self._held:
            await asyncio.sleep(self._ttl / 3)
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for user_id, tokens in list(self._held.items()):
                        await self._renew(
                            keys=[self._key(user_id)], args=[self._ttl, *tokens], client=pipe
                        )
                    await pipe.execute()
            except RedisError:
                # Slots lapse if Redis stays away longer than their lifetime: the
                # cap then counts fewer sockets than are open until they reconnect.
                logger.warning("Could not renew WebSocket slots in Redis", exc_info=True)


def _retrieve(future: asyncio.Future[None]) -> None:
    # Every socket waiting for the batch may have gone: read the outcome here
    # so that asyncio does not report it as never retrieved.
    if not future.cancelled():
        future.exception()
