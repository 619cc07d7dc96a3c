"""Log-in throttling: a fixed window of attempts per email and per client address.

Attempts are counted before the password is checked (an atomic increment, so
concurrent requests and aliases batched in one request cannot slip past the
limit) and forgiven after a successful log-in, so only failures add up.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis

from ticketing.errors import RateLimited


class AttemptCounter(Protocol):
    async def hit(self, key: str, window_seconds: int) -> tuple[int, int]:
        """Count one attempt; return the attempts in the window and its seconds left."""
        ...

    async def forgive(self, key: str) -> None:
        """Take back one attempt."""
        ...


class MemoryAttemptCounter:
    def __init__(self) -> None:
        self._windows: dict[str, tuple[int, float]] = {}

    async def hit(self, key: str, window_seconds: int) -> tuple[int, int]:
        now = time.monotonic()
        count, resets_at = self._windows.get(key, (0, now + window_seconds))
        if resets_at <= now:
            count, resets_at = 0, now + window_seconds
        self._windows[key] = (count + 1, resets_at)
        if len(self._windows) > 100_000:  # keep memory bounded under a spray of addresses
            self._windows = {k: v for k, v in self._windows.items() if v[1] > now}
        return count + 1, max(1, int(resets_at - now))

    async def forgive(self, key: str) -> None:
        if key in self._windows:
            count, resets_at = self._windows[key]
            self._windows[key] = (max(0, count - 1), resets_at)


# Decrement only a live, positive counter: a plain DECR after the window expired
# would create a key holding -1 with no expiry, one free attempt forever.
_FORGIVE = """
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then
  return redis.call('DECR', KEYS[1])
end
return 0
"""


class RedisAttemptCounter:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix
        self._forgive = redis.register_script(_FORGIVE)

    async def hit(self, key: str, window_seconds: int) -> tuple[int, int]:
        full_key = self._prefix + key
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(full_key)
            pipe.expire(full_key, window_seconds, nx=True)
            pipe.ttl(full_key)
            count, _, ttl = await pipe.execute()
        return int(count), max(1, int(ttl))

    async def forgive(self, key: str) -> None:
        await self._forgive(keys=[self._prefix + key])


@dataclass(frozen=True, slots=True)
class LoginThrottle:
    counter: AttemptCounter
    max_per_email: int
    max_per_address: int
    window_seconds: int

    @staticmethod
    def _keys(email: str, address: str) -> tuple[str, str]:
        # Hashed so that the store never holds the email in clear.
        email_key = hashlib.sha256(email.encode()).hexdigest()[:32]
        return f"login:email:{email_key}", f"login:addr:{address}"

    async def attempt(self, *, email: str, address: str) -> None:
        """Count a log-in attempt; raise RateLimited when either limit is passed."""
        email_key, address_key = self._keys(email, address)
        email_count, email_ttl = await self.counter.hit(email_key, self.window_seconds)
        address_count, address_ttl = await self.counter.hit(address_key, self.window_seconds)
        if email_count > self.max_per_email:
            raise RateLimited(email_ttl)
        if address_count > self.max_per_address:
            raise RateLimited(address_ttl)

    async def succeeded(self, *, email: str, address: str) -> None:
        for key in self._keys(email, address):
            await self.counter.forgive(key)
