"""Password hashing with argon2id at OWASP's minimum parameters, off the event loop."""

from __future__ import annotations

import asyncio
import functools

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 8
# Hashing cost grows with the input; a cap keeps one request from buying seconds of CPU.
MAX_PASSWORD_LENGTH = 1024

_hasher = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1, type=Type.ID)


@functools.cache
def _dummy_hash() -> str:
    # Log-in with an unknown email verifies against this, so that an unknown email
    # and a wrong password cost the same time and cannot be told apart.
    return _hasher.hash("not-a-password-anyone-has")


async def warm_up() -> None:
    """Compute the dummy hash at start-up, off the event loop, not in the first log-in."""
    await asyncio.to_thread(_dummy_hash)


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; with no hash, spends the same time and returns False."""
    if password_hash is None:
        await asyncio.to_thread(_verify, _dummy_hash(), password)
        return False
    return await asyncio.to_thread(_verify, password_hash, password)


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
