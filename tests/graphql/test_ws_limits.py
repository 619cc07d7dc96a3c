"""The WebSocket limits as units: the message rate, the slots per user (in-process and
Redis), the protocol that drops a peer taking no data, and the settings behind them.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any, cast

import pytest
from redis.asyncio import ConnectionPool, Redis

from tests.support.services import REDIS_URL, redis_prefix, require
from tests.support.ws_protocol import connected
from ticketing.graphql.context import Context
from ticketing.graphql.ws_connections import ConnectionCap
from ticketing.graphql.ws_limits import MessageRate
from ticketing.realtime.connections import (
    ConnectionCounter,
    MemoryConnectionCounter,
    RedisConnectionCounter,
)
from ticketing.settings import Settings, SettingsError

# The message rate


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_rate_allows_a_burst_then_refuses() -> None:
    rate = MessageRate(per_second=10, burst=5, clock=FakeClock())

    allowed = [rate.allow() for _ in range(6)]

    assert allowed == [True] * 5 + [False]


def test_the_rate_refills_over_time_up_to_the_burst() -> None:
    clock = FakeClock()
    rate = MessageRate(per_second=10, burst=5, clock=clock)
    for _ in range(5):
        rate.allow()
    # when: 0.25 s pass (2.5 messages' worth); then two more, not three
    clock.now += 0.25
    assert [rate.allow() for _ in range(3)] == [True, True, False]
    # when: an hour passes; then no more than the burst at once
    clock.now += 3600
    assert sum(rate.allow() for _ in range(10)) == 5


def test_a_steady_rate_below_the_limit_is_never_refused() -> None:
    clock = FakeClock()
    rate = MessageRate(per_second=20, burst=1, clock=clock)

    allowed = []
    for _ in range(1000):
        clock.now += 1 / 19
        allowed.append(rate.allow())

    assert all(allowed)


# Slots per user, in-process and in Redis


@pytest.fixture
async def redis_client() -> AsyncIterator[Redis]:
    require("Redis", REDIS_URL, 6379)
    client = Redis.from_url(REDIS_URL, decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture
async def prefix(redis_client: Redis) -> AsyncIterator[str]:
    key_prefix = redis_prefix("ws-slots-" + uuid.uuid4().hex[:12])
    yield key_prefix
    keys = [key async for key in redis_client.scan_iter(match=key_prefix + "*")]
    if keys:
        await redis_client.delete(*keys)


@pytest.fixture(params=["memory", "redis"])
def counter(request: pytest.FixtureRequest) -> ConnectionCounter:
    if request.param == "memory":
        return MemoryConnectionCounter()
    return RedisConnectionCounter(
        request.getfixturevalue("redis_client"), request.getfixturevalue("prefix")
    )


async def test_slots_are_counted_per_user_up_to_the_limit(counter: ConnectionCounter) -> None:
    slots = [await counter.claim(1, limit=3) for _ in range(3)]

    assert None not in slots
    assert await counter.claim(1, limit=3) is None
    assert await counter.claim(2, limit=3) is not None  # another user


async def test_a_released_slot_can_be_claimed_again(counter: ConnectionCounter) -> None:
    slots = [await counter.claim(1, limit=2) for _ in range(2)]
    assert slots[0] is not None

    await counter.release(slots[0])
    await counter.release(slots[0])  # twice: harmless

    assert await counter.claim(1, limit=2) is not None
    assert await counter.claim(1, limit=2) is None


async def test_concurrent_claims_never_overshoot_the_limit(counter: ConnectionCounter) -> None:
    claimed = await asyncio.gather(*(counter.claim(7, limit=5) for _ in range(50)))

    assert sum(slot is not None for slot in claimed) == 5


def _socket_context() -> Context:
    """What ConnectionCap reads of a socket's context: its identity and the services."""
    return cast("Context", SimpleNamespace(services=SimpleNamespace(redis=None)))


async def test_a_socket_is_admitted_once_whoever_asks_again() -> None:
    cap = ConnectionCap(limit=1)
    socket = _socket_context()
    assert await cap.admit(socket, user_id=1)

    # when: the same socket asks again, with another user's token
    again = await cap.admit(socket, user_id=2)

    # then: refused, and user 2's slot is still free for a socket of their own
    assert not again
    assert await cap.admit(_socket_context(), user_id=2)


async def test_two_processes_share_the_redis_count(redis_client: Redis, prefix: str) -> None:
    first = RedisConnectionCounter(redis_client, prefix)
    second = RedisConnectionCounter(redis_client, prefix)
    slot = await first.claim(1, limit=2)
    assert await second.claim(1, limit=2) is not None
    assert slot is not None

    assert await second.claim(1, limit=2) is None
    await first.release(slot)
    assert await second.claim(1, limit=2) is not None


async def test_slots_of_a_process_that_died_lapse(redis_client: Redis, prefix: str) -> None:
    dead = RedisConnectionCounter(redis_client, prefix, ttl_seconds=1)
    assert await dead.claim(1, limit=1) is not None
    if dead._renewer is not None:
        dead._renewer.cancel()  # the process is gone: nothing renews its slot

    await asyncio.sleep(2.1)

    alive = RedisConnectionCounter(redis_client, prefix, ttl_seconds=1)
    assert await alive.claim(1, limit=1) is not None


async def test_a_live_process_renews_its_slots_and_stops_when_it_holds_none(
    redis_client: Redis, prefix: str
) -> None:
    live = RedisConnectionCounter(redis_client, prefix, ttl_seconds=1)
    slot = await live.claim(1, limit=1)
    assert slot is not None

    await asyncio.sleep(2.5)  # more than twice the slots' lifetime

    other = RedisConnectionCounter(redis_client, prefix, ttl_seconds=1)
    assert await other.claim(1, limit=1) is None
    renewer = live._renewer
    await live.release(slot)
    await asyncio.sleep(0)
    assert renewer is not None
    assert renewer.cancelled() or renewer.done()


async def test_sockets_closing_together_give_their_slots_back_in_one_round_trip(
    redis_client: Redis, prefix: str
) -> None:
    # given a process whose Redis client has one connection and never waits for another
    single = Redis(connection_pool=ConnectionPool.from_url(REDIS_URL, max_connections=1))
    counter = RedisConnectionCounter(single, prefix)
    slots = [await counter.claim(user, limit=100) for user in (1, 2, 3) for _ in range(100)]

    # when: its 300 sockets close at once (one command each would need 300 connections)
    await asyncio.gather(*(counter.release(slot) for slot in slots if slot is not None))

    # then: every slot is given back
    try:
        for user in (1, 2, 3):
            assert await redis_client.zcard(f"{prefix}ws_connections:{user}") == 0
        assert counter._renewer is None
    finally:
        await single.aclose()


# The protocol: a peer that takes no data is dropped


class App:
    """Accepts, waits for `go`, then sends three messages; `outcome` is how that ended."""

    def __init__(self) -> None:
        self.go = asyncio.Event()
        self.sent: list[str] = []
        self.outcome: asyncio.Future[BaseException | None] = (
            asyncio.get_running_loop().create_future()
        )

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        await self.go.wait()
        try:
            for number in range(3):
                await send({"type": "websocket.send", "text": str(number)})
                self.sent.append(str(number))
        except BaseException as error:
            self.outcome.set_result(error)
            raise
        self.outcome.set_result(None)


async def test_a_peer_that_takes_no_data_is_reset_after_the_timeout() -> None:
    app = App()
    protocol, transport = await connected(app, deadline=0.3)
    protocol.pause_writing()  # the transport's buffer is full: the peer reads nothing
    app.go.set()

    error = await asyncio.wait_for(app.outcome, 5)

    assert transport.aborted
    assert app.sent == []
    assert isinstance(error, OSError)  # ClientDisconnected: the app learns the peer is gone


async def test_a_peer_that_drains_in_time_is_kept() -> None:
    app = App()
    protocol, transport = await connected(app, deadline=0.5)
    protocol.pause_writing()
    app.go.set()
    await asyncio.sleep(0.2)
    protocol.resume_writing()  # the peer read in time

    assert await asyncio.wait_for(app.outcome, 5) is None
    assert app.sent == ["0", "1", "2"]
    assert not transport.aborted


# The settings


def test_the_websocket_settings_default_to_safe_values() -> None:
    settings = Settings.from_env({"CORS_ORIGINS": "https://App.example.com:443/"})

    assert settings.ws_allowed_origins == ("https://app.example.com",)
    assert settings.ws_max_message_bytes == 128 * 1024
    assert settings.ws_max_connections_per_user == 20
    assert (settings.ws_messages_per_second, settings.ws_message_burst) == (20, 100)
    assert settings.ws_send_timeout_seconds == 20


def test_ws_allowed_origins_replaces_the_cors_origins() -> None:
    settings = Settings.from_env(
        {"CORS_ORIGINS": "https://app.example.com", "WS_ALLOWED_ORIGINS": "http://a.test:8080"}
    )

    assert settings.ws_allowed_origins == ("http://a.test:8080",)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"WS_ALLOWED_ORIGINS": "*"}, "WS_ALLOWED_ORIGINS"),
        ({"WS_ALLOWED_ORIGINS": "https://a.example/app"}, "WS_ALLOWED_ORIGINS"),
        ({"WS_ALLOWED_ORIGINS": "null"}, "WS_ALLOWED_ORIGINS"),
        ({"CORS_ORIGINS": "app.example.com"}, "CORS_ORIGINS"),
        ({"WS_MAX_MESSAGE_BYTES": "100"}, "WS_MAX_MESSAGE_BYTES"),
        ({"WS_MAX_CONNECTIONS_PER_USER": "0"}, "WS_MAX_CONNECTIONS_PER_USER"),
        ({"WS_MESSAGES_PER_SECOND": "fast"}, "WS_MESSAGES_PER_SECOND"),
        ({"WS_MESSAGE_BURST": "0"}, "WS_MESSAGE_BURST"),
        ({"WS_SEND_TIMEOUT_SECONDS": "0"}, "WS_SEND_TIMEOUT_SECONDS"),
    ],
)
def test_bad_websocket_settings_stop_the_start(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_env(env)
