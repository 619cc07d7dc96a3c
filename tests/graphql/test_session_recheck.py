"""A subscription re-checks its session on an event now and then: once per session and event.

`listening` with the in-process broker (a real hub and listeners) and stand-ins
for the rest of the services: a session store that counts `user_of` calls, and
a real `SharedReads` shared by every subscription, as `Services.reads` is.
SESSION_RECHECK_SECONDS is made tiny, so that "after the interval" is a short sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, cast

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from ticketing.auth.service import SESSION_ENDED
from ticketing.errors import Unauthenticated
from ticketing.graphql import live
from ticketing.graphql.context import Context
from ticketing.graphql.live import listening
from ticketing.realtime import channels
from ticketing.realtime.hub import Delivery, Message
from ticketing.realtime.memory import MemoryBroker
from ticketing.realtime.shared_reads import SharedReads

RECHECK = 0.2  # SESSION_RECHECK_SECONDS in these tests
AFTER_RECHECK = RECHECK * 1.2 + 0.05  # past the longest jittered interval
TIMEOUT = 5.0
SESSION, OTHER_SESSION = "session-1", "session-2"
USER_ID, OTHER_USER_ID = 1, 2
CHANNEL = channels.TICKETS_CREATED


class Sessions:
    """Stands in for the session store: whose each session is, and how often it was asked."""

    def __init__(self) -> None:
        self.owners: dict[str, int | None] = {SESSION: USER_ID, OTHER_SESSION: OTHER_USER_ID}
        self.calls: list[str] = []
        self.error: Exception | None = None

    async def user_of(self, session_id: str) -> int | None:
        self.calls.append(session_id)
        await asyncio.sleep(0)  # answered later, as Redis would
        if self.error is not None:
            raise self.error
        return self.owners.get(session_id)


@dataclass(frozen=True)
class Viewer:
    id: int


@dataclass(frozen=True)
class SignedIn:
    """Stands in for auth.service.Principal."""

    user: Viewer
    session_id: str


class Stream:
    """A subscription's deliveries, consumed as a subscription does: always waiting for the next.

    (`_deliveries` starts its clock when it is first iterated, as a subscription
    does at once; so it is iterated from the start here too.)
    """

    def __init__(self, deliveries: AsyncIterator[Delivery]) -> None:
        self._deliveries = deliveries
        self._pending = asyncio.ensure_future(anext(deliveries))

    async def next(self) -> Delivery:
        delivery = await asyncio.wait_for(self._pending, TIMEOUT)
        self._pending = asyncio.ensure_future(anext(self._deliveries))
        return delivery

    async def stop(self) -> None:
        self._pending.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._pending


@dataclass
class World:
    sessions: Sessions = field(default_factory=Sessions)
    broker: MemoryBroker = field(default_factory=MemoryBroker)
    reads: SharedReads = field(default_factory=SharedReads)
    stack: AsyncExitStack = field(default_factory=AsyncExitStack)

    def context(self) -> Context:
        services = SimpleNamespace(
            auth=SimpleNamespace(sessions=self.sessions), broker=self.broker, reads=self.reads
        )
        return Context(
            services=cast(Any, services),
            request=cast(Any, None),
            response=None,
            loaders=cast(Any, None),
        )

    async def subscribe(self, session_id: str = SESSION, user_id: int = USER_ID) -> Stream:
        """A subscription (with a context of its own), listening until the test ends."""
        principal = cast(Any, SignedIn(Viewer(user_id), session_id))
        deliveries = await self.stack.enter_async_context(
            listening(self.context(), principal, CHANNEL)
        )
        stream = Stream(deliveries)
        self.stack.push_async_callback(stream.stop)
        return stream

    async def publish(self, channel: str = CHANNEL, data: str = "event") -> None:
        await self.broker.publish(channel, data)


@pytest.fixture
async def world() -> AsyncIterator[World]:
    world = World()
    async with world.stack:
        yield world


@pytest.fixture(autouse=True)
def tiny_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live, "SESSION_RECHECK_SECONDS", RECHECK)


async def test_before_the_interval_the_session_is_not_checked(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a subscription (its session checked once as it opened) with a long interval
    monkeypatch.setattr(live, "SESSION_RECHECK_SECONDS", 60.0)
    stream = await world.subscribe()
    assert world.sessions.calls == [SESSION]
    # and a session that has ended since (a check would end the stream)
    world.sessions.owners[SESSION] = None

    # when events arrive before the interval has passed
    for n in range(3):
        await world.publish(data=f"event {n}")
    received = [await stream.next() for _ in range(3)]

    # then they are delivered, and the session is not asked about again
    assert [cast(Message, d).data for d in received] == ["event 0", "event 1", "event 2"]
    assert world.sessions.calls == [SESSION]


@pytest.mark.parametrize("owner", [None, OTHER_USER_ID], ids=["ended", "someone-else's"])
async def test_after_the_interval_a_session_no_longer_the_users_ends_the_stream(
    world: World, owner: int | None
) -> None:
    # given a subscription whose session ended (or is someone else's) since it opened
    stream = await world.subscribe()
    world.sessions.owners[SESSION] = owner

    # when an event arrives after the interval
    await asyncio.sleep(AFTER_RECHECK)
    await world.publish()

    # then the session is checked again and the stream ends, unauthenticated
    with pytest.raises(Unauthenticated, match=SESSION_ENDED):
        await stream.next()
    assert world.sessions.calls == [SESSION, SESSION]


async def test_a_session_still_valid_is_checked_once_per_interval(world: World) -> None:
    # given a subscription whose session is still the user's
    stream = await world.subscribe()

    # when an event arrives after the interval
    await asyncio.sleep(AFTER_RECHECK)
    await world.publish(data="later")

    # then it is delivered after a check
    assert cast(Message, await stream.next()).data == "later"
    assert world.sessions.calls == [SESSION, SESSION]

    # when another arrives right after it, then it is delivered without one
    await world.publish(data="right after")
    assert cast(Message, await stream.next()).data == "right after"
    assert world.sessions.calls == [SESSION, SESSION]


async def test_the_subscriptions_of_a_session_make_one_check_per_event(world: World) -> None:
    # given 20 subscriptions of one session
    subscriptions = [await world.subscribe() for _ in range(20)]
    world.sessions.calls.clear()

    # when, after the interval, one event reaches all of them
    await asyncio.sleep(AFTER_RECHECK)
    await world.publish()
    received = await asyncio.gather(*(d.next() for d in subscriptions))

    # then all got it, and the session was asked about once
    assert all(delivery is received[0] for delivery in received)
    assert world.sessions.calls == [SESSION]


async def test_each_session_is_checked_for_itself(world: World) -> None:
    # given subscriptions of two sessions of different users, and one of them ended since
    ending = [await world.subscribe(SESSION, USER_ID) for _ in range(3)]
    going_on = [await world.subscribe(OTHER_SESSION, OTHER_USER_ID) for _ in range(3)]
    world.sessions.calls.clear()
    world.sessions.owners[SESSION] = None

    # when, after the interval, one event reaches all of them
    await asyncio.sleep(AFTER_RECHECK)
    await world.publish()
    outcomes = await asyncio.gather(
        *(d.next() for d in [*ending, *going_on]), return_exceptions=True
    )

    # then each session was asked about once, and only the ended one's streams end
    assert sorted(world.sessions.calls) == [SESSION, OTHER_SESSION]
    assert all(isinstance(outcome, Unauthenticated) for outcome in outcomes[:3])
    assert all(isinstance(outcome, Message) for outcome in outcomes[3:])


async def test_a_redis_error_in_the_check_is_logged_and_the_stream_goes_on(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    # given a subscription, and Redis down after it opened
    stream = await world.subscribe()
    world.sessions.error = RedisConnectionError("Connection refused")

    # when an event arrives after the interval
    await asyncio.sleep(AFTER_RECHECK)
    with caplog.at_level(logging.WARNING, logger=live.__name__):
        await world.publish(data="while down")
        delivered = await stream.next()

    # then it is delivered, and the failed check logged as a warning
    assert cast(Message, delivered).data == "while down"
    assert world.sessions.calls == [SESSION, SESSION]
    [record] = [r for r in caplog.records if r.name == live.__name__]
    assert record.levelno == logging.WARNING
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], RedisConnectionError)

    # when another event arrives at once, then it is delivered without a check
    await world.publish(data="at once")
    assert cast(Message, await stream.next()).data == "at once"
    assert world.sessions.calls == [SESSION, SESSION]

    # when Redis is back (the session ended meanwhile) and an event comes after the interval
    world.sessions.error = None
    world.sessions.owners[SESSION] = None
    await asyncio.sleep(AFTER_RECHECK)
    await world.publish(data="back")

    # then the session is checked again, and the stream ends
    with pytest.raises(Unauthenticated, match=SESSION_ENDED):
        await stream.next()
    assert world.sessions.calls == [SESSION, SESSION, SESSION]


async def test_a_message_on_the_sessions_channel_ends_the_stream_at_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a subscription whose session was checked just now (no re-check due)
    monkeypatch.setattr(live, "SESSION_RECHECK_SECONDS", 60.0)
    stream = await world.subscribe()

    # when the session's end is announced on its channel
    await world.publish(channels.session(SESSION), "ended")

    # then the stream ends at once, without asking the store
    with pytest.raises(Unauthenticated, match=SESSION_ENDED):
        await stream.next()
    assert world.sessions.calls == [SESSION]


async def test_the_interval_is_jittered_by_up_to_a_fifth(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given subscriptions opened with the jitter at its extremes, both already due
    # for a check by the base interval but not by a jittered one of 100 times it
    factors = iter([0.8, 100.0])
    asked: list[tuple[float, float]] = []

    def uniform(low: float, high: float) -> float:
        asked.append((low, high))
        return next(factors)

    monkeypatch.setattr(random, "uniform", uniform)
    soon, late = await world.subscribe(), await world.subscribe()
    world.sessions.calls.clear()

    # when an event reaches both after the base interval
    await asyncio.sleep(AFTER_RECHECK)
    await world.publish()
    await soon.next()
    await late.next()

    # then only the one whose interval is not stretched checked its session
    assert world.sessions.calls == [SESSION]
    # and the interval is drawn between 80% and 120% of SESSION_RECHECK_SECONDS
    assert asked == [(0.8, 1.2), (0.8, 1.2)]
