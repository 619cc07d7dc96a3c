"""Auth unit fixtures: every store and counter test runs on memory and on Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from tests.support.services import REDIS_URL, redis_prefix, require
from ticketing.auth.sessions import MemorySessionStore, RedisSessionStore, SessionStore
from ticketing.auth.throttle import AttemptCounter, MemoryAttemptCounter, RedisAttemptCounter


@pytest.fixture
def key_prefix() -> str:
    """A Redis key prefix of this test's own."""
    return redis_prefix("unit-" + uuid.uuid4().hex[:12])


@pytest.fixture
async def redis_client(key_prefix: str) -> AsyncIterator[Redis]:
    require("Redis", REDIS_URL, 6379)
    client = Redis.from_url(REDIS_URL, decode_responses=True)
    yield client
    keys = [key async for key in client.scan_iter(match=key_prefix + "*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


@pytest.fixture(params=["memory", "redis"])
def session_store(request: pytest.FixtureRequest, key_prefix: str) -> SessionStore:
    if request.param == "memory":
        return MemorySessionStore()
    return RedisSessionStore(request.getfixturevalue("redis_client"), key_prefix)


@pytest.fixture(params=["memory", "redis"])
def attempt_counter(request: pytest.FixtureRequest, key_prefix: str) -> AttemptCounter:
    if request.param == "memory":
        return MemoryAttemptCounter()
    return RedisAttemptCounter(request.getfixturevalue("redis_client"), key_prefix)
