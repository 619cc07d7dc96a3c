"""Server-side sessions: one per log-in, named by the access token's `sid`.

A session holds its user and the digest of its current refresh token. Rotating
the refresh token is atomic; presenting a token that was already rotated away
is taken as theft and ends the whole session (OWASP, refresh token reuse
detection), except within a short grace period after its rotation: then it
yields its successor again (as Auth0's reuse interval and Okta's grace period
do), so that two tabs of one browser refreshing at once both stay signed in.
The successor is derived from the token (auth/tokens.py), so the store never
holds a refresh secret, only digests.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

from redis.asyncio import Redis


class Rotation(Enum):
    ROTATED = "rotated"
    # The token was rotated within the grace period and its successor is still
    # current: the successor is the answer again, and nothing changes.
    RETRIED = "retried"
    UNKNOWN = "unknown"  # no such session, or a token it never issued
    REUSED = "reused"  # a refresh token that was already rotated: the session is now revoked


@dataclass(frozen=True, slots=True)
class RotationResult:
    outcome: Rotation
    user_id: int | None = None


class SessionStore(Protocol):
    async def create(
        self, *, session_id: str, user_id: int, refresh_digest: str, ttl_seconds: int
    ) -> None: ...

    async def user_of(self, session_id: str) -> int | None:
        """The session's user, or None once it has ended."""
        ...

    async def rotate(
        self,
        *,
        session_id: str,
        presented_digest: str,
        successor_digest: str,
        ttl_seconds: int,
        grace_seconds: float,
    ) -> RotationResult:
        """Make the successor current if the presented token is; see Rotation."""
        ...

    async def revoke(self, session_id: str) -> None: ...

    async def revoke_presented(self, session_id: str, presented_digest: str) -> bool:
        """End the session if the token is one it issued (current or rotated); True if so."""
        ...


@dataclass(slots=True)
class _MemorySession:
    user_id: int
    refresh_digest: str
    expires_at: float
    spent_digests: set[str] = field(default_factory=set)
    previous_digest: str | None = None
    rotated_at: float = 0.0


class MemorySessionStore:
    """Sessions in this process's memory: the embedded default, for one process only."""

    def __init__(self) -> None:
        self._sessions: dict[str, _MemorySession] = {}

    def _live(self, session_id: str) -> _MemorySession | None:
        session = self._sessions.get(session_id)
        if session is not None and session.expires_at <= time.monotonic():
            del self._sessions[session_id]
            return None
        return session

    async def create(
        self, *, session_id: str, user_id: int, refresh_digest: str, ttl_seconds: int
    ) -> None:
        self._sessions[session_id] = _MemorySession(
            user_id=user_id,
            refresh_digest=refresh_digest,
            expires_at=time.monotonic() + ttl_seconds,
        )

    async def user_of(self, session_id: str) -> int | None:
        session = self._live(session_id)
        return None if session is None else session.user_id

    async def rotate(
        self,
        *,
        session_id: str,
        presented_digest: str,
        successor_digest: str,
        ttl_seconds: int,
        grace_seconds: float,
    ) -> RotationResult:
        # No await between the check and the update: atomic within the event loop.
        session = self._live(session_id)
        if session is None:
            return RotationResult(Rotation.UNKNOWN)
        now = time.monotonic()
        if presented_digest == session.refresh_digest:
            session.spent_digests.add(session.refresh_digest)
            session.previous_digest, session.rotated_at = presented_digest, now
            session.refresh_digest = successor_digest
            session.expires_at = now + ttl_seconds
            return RotationResult(Rotation.ROTATED, session.user_id)
        if (
            presented_digest == session.previous_digest
            and successor_digest == session.refresh_digest
            and now - session.rotated_at < grace_seconds
        ):
            return RotationResult(Rotation.RETRIED, session.user_id)
        if presented_digest in session.spent_digests:
            del self._sessions[session_id]
            return RotationResult(Rotation.REUSED, session.user_id)
        return RotationResult(Rotation.UNKNOWN)

    async def revoke(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)

    async def revoke_presented(self, session_id: str, presented_digest: str) -> bool:
        session = self._live(session_id)
        if session is None or (
            presented_digest != session.refresh_digest
            and presented_digest not in session.spent_digests
        ):
            return False
        del self._sessions[session_id]
        return True


# KEYS[1] the session hash, KEYS[2] the set of spent refresh digests.
# ARGV[1] presented digest, ARGV[2] successor digest, ARGV[3] ttl in seconds,
# ARGV[4] grace in seconds. Returns {1, user} rotated, {2, user} retried within
# the grace, {-1, user} reused (session deleted), {0, ""} unknown.
_ROTATE = """
local current = redis.call('HGET', KEYS[1], 'refresh')
if not current then return {0, ''} end
local user = redis.call('HGET', KEYS[1], 'user')
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
if current == ARGV[1] then
  redis.call('HSET', KEYS[1], 'refresh', ARGV[2], 'previous', ARGV[1], 'rotated_at', now)
  redis.call('SADD', KEYS[2], ARGV[1])
  redis.call('EXPIRE', KEYS[1], ARGV[3])
  redis.call('EXPIRE', KEYS[2], ARGV[3])
  return {1, user}
end
if current == ARGV[2] and redis.call('HGET', KEYS[1], 'previous') == ARGV[1] then
  local rotated_at = tonumber(redis.call('HGET', KEYS[1], 'rotated_at') or '0')
  if now - rotated_at < tonumber(ARGV[4]) then return {2, user} end
end
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then
  redis.call('DEL', KEYS[1], KEYS[2])
  return {-1, user}
end
return {0, ''}
"""

# KEYS[1] the session hash, KEYS[2] its spent digests; ARGV[1] the presented
# digest. Deletes the session only for a token it issued; returns 1 if so.
_REVOKE_PRESENTED = """
local current = redis.call('HGET', KEYS[1], 'refresh')
if not current then return 0 end
if current == ARGV[1] or redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then
  redis.call('DEL', KEYS[1], KEYS[2])
  return 1
end
return 0
"""

_OUTCOMES = {1: Rotation.ROTATED, 2: Rotation.RETRIED, -1: Rotation.REUSED, 0: Rotation.UNKNOWN}


class RedisSessionStore:
    """Sessions in Redis, shared by every process, so log-out takes effect everywhere."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix
        self._rotate = redis.register_script(_ROTATE)
        self._revoke_presented = redis.register_script(_REVOKE_PRESENTED)

    def _key(self, session_id: str) -> str:
        return f"{self._prefix}session:{session_id}"

    def _spent_key(self, session_id: str) -> str:
        return f"{self._prefix}session:{session_id}:spent"

    async def create(
        self, *, session_id: str, user_id: int, refresh_digest: str, ttl_seconds: int
    ) -> None:
        key = self._key(session_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={"user": str(user_id), "refresh": refresh_digest})
            pipe.expire(key, ttl_seconds)
            await pipe.execute()

    async def user_of(self, session_id: str) -> int | None:
        user = await self._redis.hget(self._key(session_id), "user")
        return None if user is None else int(user)

    async def rotate(
        self,
        *,
        session_id: str,
        presented_digest: str,
        successor_digest: str,
        ttl_seconds: int,
        grace_seconds: float,
    ) -> RotationResult:
        code, user = await self._rotate(
            keys=[self._key(session_id), self._spent_key(session_id)],
            args=[presented_digest, successor_digest, ttl_seconds, grace_seconds],
        )
        outcome = _OUTCOMES[int(code)]
        return RotationResult(outcome, int(user) if user else None)

    async def revoke(self, session_id: str) -> None:
        await self._redis.delete(self._key(session_id), self._spent_key(session_id))

    async def revoke_presented(self, session_id: str, presented_digest: str) -> bool:
        keys = [self._key(session_id), self._spent_key(session_id)]
        return bool(await self._revoke_presented(keys=keys, args=[presented_digest]))
