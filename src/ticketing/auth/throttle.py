"""Throttling: fixed windows of log-in attempts and of sign-ups.

Log-in attempts are counted before the password is checked (an atomic
increment, so concurrent requests and aliases batched in one request cannot
slip past the limit) and forgiven after a successful log-in, so only failures
add up.
"""

from __future__ import annotations

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
    """Failed log-ins per email and per address, except from a device the owner used before.

    A limit per email alone lets anyone lock any account (the admin's too) by
    failing on purpose. So attempts from a browser that logged in to this
    account before (it holds a device cookie for it, auth/devices.py) count
    against that device's own allowance, which nobody else can spend; only
    attempts from unknown clients share the per-email and per-address limits
    (OWASP's device cookies). Guessing stays slow from anywhere, and an
    attacker can at worst lock out browsers that never logged in to the account.
    """

    counter: AttemptCounter
    max_per_email: int
    max_per_address: int
    max_per_device: int
    window_seconds: int

    def _buckets(self, email_key: str, address: str, device: str | None) -> list[tuple[str, int]]:
        """The counters an attempt counts in, each with its limit."""
        if device is not None:
            return [(f"login:device:{device}", self.max_per_device)]
        # The email's identity (users/emails.py), never the email in clear.
        return [
            (f"login:email:{email_key[:32]}", self.max_per_email),
            (f"login:addr:{address}", self.max_per_address),
        ]

    async def attempt(self, *, email_key: str, address: str, device: str | None = None) -> None:
        """Count a log-in attempt; raise RateLimited when a limit that applies is passed.

        `device` is the id of a valid device cookie for this email (auth/devices.py), if any.
        """
        buckets = self._buckets(email_key, address, device)
        counts = [await self.counter.hit(key, self.window_seconds) for key, _ in buckets]
        for (count, retry_after), (_, limit) in zip(counts, buckets, strict=True):
            if count > limit:
                raise RateLimited(retry_after)

    async def succeeded(self, *, email_key: str, address: str, device: str | None = None) -> None:
        for key, _ in self._buckets(email_key, address, device):
            await self.counter.forgive(key)


@dataclass(frozen=True, slots=True)
class SignUpThrottle:
    """Sign-ups per client address: each needs no account and costs an argon2 hash."""

    counter: AttemptCounter
    max_per_address: int
    window_seconds: int

    async def attempt(self, *, address: str) -> None:
        count, retry_after = await self.counter.hit(f"signup:addr:{address}", self.window_seconds)
        if count > self.max_per_address:
            raise RateLimited(retry_after)
