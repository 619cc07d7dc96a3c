"""Server-side sessions: one per log-in, named by the access token's `sid`.

A session holds its user and the digest of its current refresh token. Rotating
the refresh token is atomic; presenting a token that was already rotated away
is taken as theft and ends the whole session (OWASP, refresh token reuse detection).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

from redis.asyncio import Redis


class Rotation(Enum):
    ROTATED = "rotated"
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
        self, *, session_id: str, presented_digest: str, new_digest: str, ttl_seconds: int
    ) -> RotationResult: ...

    async def revoke(self, session_id: str) -> None: ...


@dataclass(slots=True)
class _MemorySession:
    user_id: int
    refresh_digest: str
    expires_at: float
    spent_digests: set[str] = field(default_factory=set)


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
        self, *, session_id: str, presented_digest: str, new_digest: str, ttl_seconds: int
    ) -> RotationResult:
        # No await between the check and the update: atomic within the event loop.
        session = self._live(session_id)
        if session is None:
            return RotationResult(Rotation.UNKNOWN)
        if presented_digest == session.refresh_digest:
            session.spent_digests.add(session.refresh_digest)
            session.refresh_digest = new_digest
            session.expires_at = time.monotonic() + ttl_seconds
            return RotationResult(Rotation.ROTATED, session.user_id)
        if presented_digest in session.spent_digests:
            del self._sessions[session_id]
            return RotationResult(Rotation.REUSED, session.user_id)
        return RotationResult(Rotation.UNKNOWN)

    async def revoke(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)


# KEYS[1] the session hash, KEYS[2] the set of spent refresh digests.
# ARGV[1] presented digest, ARGV[2] new digest, ARGV[3] ttl in seconds.
# Returns {1, user} rotated, {-1, user} reused (session deleted), {0, ""} unknown.
_ROTATE = """
local current = redis.call('HGET', KEYS[1], 'refresh')
if not current then return {0, ''} end
local user = redis.call('HGET', KEYS[1], 'user')
if current == ARGV[1] then
  redis.call('HSET', KEYS[1], 'refresh', ARGV[2])
  redis.call('SADD', KEYS[2], ARGV[1])
  redis.call('EXPIRE', KEYS[1], ARGV[3])
  redis.call('EXPIRE', KEYS[2], ARGV[3])
  return {1, user}
end
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then
  redis.call('DEL', KEYS[1], KEYS[2])
  return {-1, user}
end
return {0, ''}
"""

_OUTCOMES = {1: Rotation.ROTATED, -1: Rotation.REUSED, 0: Rotation.UNKNOWN}


class RedisSessionStore:
    """Sessions in Redis, shared by every process, so log-out takes effect everywhere."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix
        self._rotate = redis.register_script(_ROTATE)

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
        self, *, session_id: str, presented_digest: str, new_digest: str, ttl_seconds: int
    ) -> RotationResult:
        code, user = await self._rotate(
            keys=[self._key(session_id), self._spent_key(session_id)],
            args=[presented_digest, new_digest, ttl_seconds],
        )
        outcome = _OUTCOMES[int(code)]
        return RotationResult(outcome, int(user) if user else None)

    async def revoke(self, session_id: str) -> None:
        await self._redis.delete(self._key(session_id), self._spent_key(session_id))
