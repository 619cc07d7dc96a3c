"""The broker's behaviour, the same on both backends: in-process and Redis pub/sub.

What the subscriptions rely on: a listener gets each message of its channels
once, only while it listens, and is told with a `Gap` whenever something may
have been lost (it fell behind, or the Redis connection was renewed). On Redis,
one exact-channel subscription per process serves every local listener.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest
from redis.asyncio import Redis

from tests.realtime.redis_server import RedisServer
from tests.support.services import REDIS_URL, redis_prefix, require
from ticketing.realtime.broker import Broker
from ticketing.realtime.hub import Delivery, Gap, Listener, Message
from ticketing.realtime.memory import MemoryBroker
from ticketing.realtime.redis import RedisBroker
from ticketing.services import connect_redis

BACKENDS = ("memory", "redis")
# How long a delivery that should come may take (Redis is local: milliseconds).
DELIVERY_TIMEOUT = 3.0
# How long to wait for something that must not come, once a later message proved
# the dispatch of the earlier one is over (dispatch is synchronous in the hub).
SILENCE_TIMEOUT = 0.2
CONNECT_TIMEOUT = 5.0
# After a Redis restart the broker reconnects with a backoff of at most 5 s.
RECONNECT_TIMEOUT = 10.0
POLL_SECONDS = 0.02
PROBE_CHANNEL = "test.probe"


@dataclass
class Backend:
    name: str
    redis: Redis | None = None
    prefix: str = ""
    brokers: list[Broker] = field(default_factory=list)

    def new_broker(self) -> Broker:
        broker: Broker = (
            MemoryBroker() if self.redis is None else RedisBroker(self.redis, self.prefix)
        )
        self.brokers.append(broker)
        return broker


async def eventually(check: Callable[[], Awaitable[bool]], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {within}s: {what}")
        await asyncio.sleep(POLL_SECONDS)


async def numsub(redis: Redis, channel: str) -> int:
    counts = dict(await redis.pubsub_numsub(channel))
    return int(counts.get(channel, 0))


async def wait_connected(broker: Broker, backend: Backend) -> None:
    """Wait until a Redis broker's pub/sub connection is up (a probe is subscribed upstream)."""
    redis = backend.redis
    if redis is None:
        return
    async with broker.listen([PROBE_CHANNEL]):

        async def probe_subscribed() -> bool:
            return await numsub(redis, backend.prefix + PROBE_CHANNEL) == 1

        await eventually(probe_subscribed, CONNECT_TIMEOUT, "the broker connects to Redis")


async def next_delivery(listener: Listener, within: float = DELIVERY_TIMEOUT) -> Delivery:
    return await asyncio.wait_for(listener.next(), within)


async def assert_nothing_queued(listener: Listener) -> None:
    try:
        extra = await asyncio.wait_for(listener.next(), SILENCE_TIMEOUT)
    except TimeoutError:
        return
    pytest.fail(f"unexpected delivery {extra!r}")


def channel_name() -> str:
    return f"ticket.{uuid.uuid4().hex[:8]}.messages"


@pytest.fixture(params=BACKENDS)
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    if request.param == "memory":
        yield Backend("memory")
        return
    require("Redis", REDIS_URL, 6379)
    redis = connect_redis(REDIS_URL)
    used = Backend("redis", redis, redis_prefix(f"broker-{uuid.uuid4().hex[:8]}"))
    try:
        yield used
    finally:
        for broker in used.brokers:
            await broker.close()
        await redis.aclose()


@pytest.fixture
async def broker(backend: Backend) -> AsyncIterator[Broker]:
    """A started broker, connected (on Redis) before the test begins."""
    started = backend.new_broker()
    await started.start()
    await wait_connected(started, backend)
    yield started
    await started.close()


redis_only = pytest.mark.parametrize("backend", ["redis"], indirect=True)


# --- Both backends ---------------------------------------------------------------


async def test_a_published_message_reaches_a_listener(broker: Broker) -> None:
    # given
    channel = channel_name()
    async with broker.listen([channel]) as listener:
        # when
        await broker.publish(channel, "hello")

        # then
        assert await next_delivery(listener) == Message(channel, "hello")
        await assert_nothing_queued(listener)


async def test_several_listeners_on_one_channel_each_get_it_once(broker: Broker) -> None:
    # given
    channel = channel_name()
    async with (
        broker.listen([channel]) as first,
        broker.listen([channel]) as second,
        broker.listen([channel]) as third,
    ):
        # when
        await broker.publish(channel, "one")
        await broker.publish(channel, "two")

        # then
        for listener in (first, second, third):
            assert await next_delivery(listener) == Message(channel, "one")
            assert await next_delivery(listener) == Message(channel, "two")
            await assert_nothing_queued(listener)


async def test_a_listener_on_two_channels_gets_both(broker: Broker) -> None:
    # given
    left, right = channel_name(), channel_name()
    async with broker.listen([left, right]) as listener:
        # when
        await broker.publish(left, "from left")
        await broker.publish(right, "from right")

        # then
        assert await next_delivery(listener) == Message(left, "from left")
        assert await next_delivery(listener) == Message(right, "from right")
        await assert_nothing_queued(listener)


async def test_messages_published_together_arrive_in_order_once_each(broker: Broker) -> None:
    # given a change's events: its own channel's twice, another's in between
    left, right = channel_name(), channel_name()
    async with broker.listen([left, right]) as listener:
        # when they go out together
        await broker.publish_all([(left, "first"), (right, "second"), (left, "third")])

        # then each listener gets them once, in the order given
        assert await next_delivery(listener) == Message(left, "first")
        assert await next_delivery(listener) == Message(right, "second")
        assert await next_delivery(listener) == Message(left, "third")
        await assert_nothing_queued(listener)


async def test_other_channels_are_not_delivered(broker: Broker) -> None:
    # given
    mine, other = channel_name(), channel_name()
    async with broker.listen([mine]) as listener, broker.listen([other]) as bystander:
        # when: the other channel's message goes first, then one of mine
        await broker.publish(other, "not for you")
        await broker.publish(mine, "for you")

        # then: mine is the only thing delivered (the bystander proves the other went out)
        assert await next_delivery(bystander) == Message(other, "not for you")
        assert await next_delivery(listener) == Message(mine, "for you")
        await assert_nothing_queued(listener)


async def test_nothing_reaches_a_listener_after_its_context_exits(broker: Broker) -> None:
    # given: a listener that leaves while another one stays on the same channel
    channel = channel_name()
    async with broker.listen([channel]) as staying:
        async with broker.listen([channel]) as leaving:
            await broker.publish(channel, "before")
            assert await next_delivery(leaving) == Message(channel, "before")

        # when
        await broker.publish(channel, "after")

        # then: the one still listening got it, the one that left did not
        assert await next_delivery(staying) == Message(channel, "before")
        assert await next_delivery(staying) == Message(channel, "after")
        await assert_nothing_queued(leaving)
    assert broker.stats()["listeners"] == 0


async def test_the_last_listener_leaving_stops_delivery_on_its_channel(broker: Broker) -> None:
    # given: a listener that left its (now unwatched) channel
    channel, witness_channel = channel_name(), channel_name()
    async with broker.listen([channel]) as left:
        pass

    # when: its channel gets a message, then a channel somebody still watches
    async with broker.listen([witness_channel]) as witness:
        await broker.publish(channel, "nobody listens")
        await broker.publish(witness_channel, "after")
        assert await next_delivery(witness) == Message(witness_channel, "after")

    # then
    await assert_nothing_queued(left)
    assert broker.stats()["listeners"] == 0
    assert broker.stats()["channels"] == 0


async def test_a_listener_that_falls_behind_gets_a_gap_and_a_bounded_queue(
    broker: Broker,
) -> None:
    # given: a slow listener (2 queued at most) and a fast one on the same channel
    channel = channel_name()
    async with (
        broker.listen([channel], max_queued=2) as slow,
        broker.listen([channel]) as fast,
    ):
        # when: 10 messages go out and the slow listener reads none
        for number in range(10):
            await broker.publish(channel, f"m{number}")
        for number in range(10):  # all 10 were dispatched (to both) once the fast one has them
            assert await next_delivery(fast) == Message(channel, f"m{number}")

        # then: the slow one is told it lost some, and holds no more than 2 items
        held: list[Delivery] = []
        while True:
            try:
                held.append(await asyncio.wait_for(slow.next(), SILENCE_TIMEOUT))
            except TimeoutError:
                break
    assert 1 <= len(held) <= 2, held
    assert isinstance(held[0], Gap)
    # What follows a gap is the newest message (older ones are replayed from the database).
    assert held[1:] in ([], [Message(channel, "m9")]), held


# --- Redis only ------------------------------------------------------------------


@redis_only
async def test_one_upstream_subscription_serves_every_local_listener(
    broker: Broker, backend: Backend
) -> None:
    assert backend.redis is not None
    redis = backend.redis
    channel = channel_name()
    upstream = backend.prefix + channel
    numpat_before = await redis.pubsub_numpat()

    # given: nobody listens
    assert await numsub(redis, upstream) == 0

    # when: three local listeners open on one channel
    async with broker.listen([channel]), broker.listen([channel]), broker.listen([channel]):
        # then: one upstream subscription, no pattern subscription
        async def subscribed_once() -> bool:
            return await numsub(redis, upstream) == 1

        await eventually(subscribed_once, CONNECT_TIMEOUT, "one upstream subscription")
        await asyncio.sleep(SILENCE_TIMEOUT)  # and it stays one (no late duplicate)
        assert await numsub(redis, upstream) == 1
        assert await redis.pubsub_numpat() == numpat_before
        assert broker.stats()["upstream_channels"] == 1

    # when the last one has left: unsubscribed upstream (asynchronously)
    async def unsubscribed() -> bool:
        return await numsub(redis, upstream) == 0

    await eventually(unsubscribed, CONNECT_TIMEOUT, "unsubscribed after the last listener left")
    assert await redis.pubsub_numpat() == numpat_before
    assert broker.stats()["upstream_channels"] == 0


@redis_only
async def test_the_upstream_subscription_stays_while_any_listener_remains(
    broker: Broker, backend: Backend
) -> None:
    assert backend.redis is not None
    redis = backend.redis
    channel = channel_name()
    upstream = backend.prefix + channel

    # given: two listeners on one channel
    async with broker.listen([channel]) as staying:
        async with broker.listen([channel]):

            async def subscribed() -> bool:
                return await numsub(redis, upstream) == 1

            await eventually(subscribed, CONNECT_TIMEOUT, "subscribed upstream")

        # when: one leaves
        await asyncio.sleep(SILENCE_TIMEOUT)

        # then: still subscribed, and the remaining listener still gets messages
        assert await numsub(redis, upstream) == 1
        await broker.publish(channel, "still here")
        assert await next_delivery(staying) == Message(channel, "still here")


@redis_only
async def test_a_message_published_by_another_process_reaches_the_listener(
    broker: Broker, backend: Backend
) -> None:
    # given: a listener, and another process's broker on the same Redis and prefix
    other = backend.new_broker()
    channel = channel_name()
    async with broker.listen([channel]) as listener:
        # when
        await other.publish(channel, "from elsewhere")

        # then
        assert await next_delivery(listener) == Message(channel, "from elsewhere")


@redis_only
async def test_a_listener_opened_right_after_start_misses_nothing_silently(
    backend: Backend,
) -> None:
    # given: a broker just started (its pub/sub connection may not be up yet)
    broker = backend.new_broker()
    await broker.start()
    channel = channel_name()
    async with broker.listen([channel]) as listener:
        # when: a message is published once `listen` has returned
        await broker.publish(channel, "first")

        # then: it arrives, or at least the listener is told it may have missed something
        delivered = await next_delivery(listener)
    assert delivered == Message(channel, "first") or isinstance(delivered, Gap), delivered


async def test_the_private_redis_keeps_its_data_across_a_restart(
    private_redis: RedisServer,
) -> None:
    # given
    key = f"test:{uuid.uuid4().hex}"
    before = Redis.from_url(private_redis.url, decode_responses=True)
    try:
        await before.set(key, "kept")
    finally:
        await before.aclose()

    # when
    await asyncio.to_thread(private_redis.stop)
    assert not private_redis.ping()
    await asyncio.to_thread(private_redis.start)

    # then: the same port answers, with the data (a new client: the old sockets are gone)
    after = Redis.from_url(private_redis.url, decode_responses=True)
    try:
        assert await after.get(key) == "kept"
    finally:
        await after.aclose()


async def test_the_broker_reconnects_after_a_redis_restart_and_signals_a_gap(
    private_redis: RedisServer,
) -> None:
    # given: a connected broker with a listener on two channels
    redis = connect_redis(private_redis.url)
    backend = Backend("redis", redis, redis_prefix(f"broker-restart-{uuid.uuid4().hex[:8]}"))
    broker = backend.new_broker()
    await broker.start()
    try:
        await wait_connected(broker, backend)
        left, right = channel_name(), channel_name()
        async with broker.listen([left, right]) as listener:
            await broker.publish(left, "before")
            assert await next_delivery(listener) == Message(left, "before")
            assert broker.stats()["upstream_channels"] == 2

            # when: Redis goes away and comes back (same port, data kept)
            await asyncio.to_thread(private_redis.stop)

            async def lost() -> bool:
                return broker.stats()["upstream_channels"] == 0

            await eventually(lost, CONNECT_TIMEOUT, "the broker notices the connection is gone")
            await asyncio.to_thread(private_redis.start)

            # then: the listener is told it may have missed something
            assert isinstance(await next_delivery(listener, RECONNECT_TIMEOUT), Gap)
            # and what is published now is delivered, on both channels
            await broker.publish(left, "after left")
            await broker.publish(right, "after right")
            assert await next_delivery(listener) == Message(left, "after left")
            assert await next_delivery(listener) == Message(right, "after right")
            await assert_nothing_queued(listener)
            assert broker.stats()["upstream_channels"] == 2
            for channel in (left, right):
                assert await numsub(redis, backend.prefix + channel) == 1
    finally:
        await broker.close()
        await redis.aclose()
