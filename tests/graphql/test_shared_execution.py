"""Shared execution: a live event runs once per (document, variables, audience), encoded once.

A small schema of its own, built like the app's (`SharedEventExecutor` and a
parse cache: the key holds the parsed operation, so equal documents must parse
to the same node, as they do with the app's `InBandParserCache`). Each
subscriber has its own `Context` and its own queue of hub deliveries; every
test hands the very same `Message` to all of them, as the hub does.
"""

from __future__ import annotations

import asyncio
import gc
import json
import weakref
from collections import Counter
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from functools import partial
from types import SimpleNamespace
from typing import Any, cast

import pytest
import strawberry
from graphql import GraphQLError
from strawberry.types import ExecutionContext, ExecutionResult

from ticketing.graphql import shared_execution
from ticketing.graphql.context import Context
from ticketing.graphql.parser_cache import InBandParserCache
from ticketing.graphql.shared_execution import (
    EncodedOnce,
    SharedEventExecutor,
    encode_frame,
    share,
    shared_root,
)
from ticketing.realtime.hub import Message

OWNER_ID = 1
EMAIL = "owner@example.test"
TIMEOUT = 5.0
# How often `Thing.label` (and `Thing.broken`) ran, per event: every test uses
# events named after itself, so the counts of one test never mix with another's.
RESOLVED: Counter[str] = Counter()


@dataclass
class SubscriberContext(Context):
    """The app's context, plus the queue on which this subscriber's deliveries arrive."""

    deliveries: asyncio.Queue[Message] = field(default_factory=asyncio.Queue)


SubscriberInfo = strawberry.Info[SubscriberContext, None]


@strawberry.type
class Thing:
    name: str
    _owner_id: strawberry.Private[int]

    @strawberry.field
    def label(self, suffix: str = "") -> str:
        RESOLVED[self.name] += 1
        return self.name + suffix

    # Like User.email: for admins and for the owner only.
    @strawberry.field
    async def email(self, info: SubscriberInfo) -> str | None:
        viewer = await info.context.viewer_or_none()
        if viewer is not None and (viewer.is_admin or viewer.id == self._owner_id):
            return EMAIL
        return None

    @strawberry.field
    def broken(self) -> str | None:
        RESOLVED[f"{self.name} broken"] += 1
        raise RuntimeError("the resolver failed")


def thing_of(delivery: Message) -> Thing:
    return Thing(name=delivery.data, _owner_id=OWNER_ID)


@strawberry.type
class Query:
    ping: str = "pong"


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def things(self, info: SubscriberInfo) -> AsyncGenerator[Thing, None]:
        while True:
            delivery = await info.context.deliveries.get()
            yield shared_root(delivery, "Thing", partial(thing_of, delivery))

    # The same object for all, never share()d: as a replay may yield.
    @strawberry.subscription
    async def replayed_things(self, info: SubscriberInfo) -> AsyncGenerator[Thing, None]:
        while True:
            delivery = await info.context.deliveries.get()
            yield delivery.shared("replayed Thing", partial(thing_of, delivery))


class QuietSchema(strawberry.Schema):
    """Errors are asserted on, not logged: a captured log record's traceback would keep
    the failed root alive, and hide whether shared execution lets it go."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        return None


SCHEMA = QuietSchema(
    query=Query,
    subscription=Subscription,
    extensions=[InBandParserCache],
    execution_context_class=SharedEventExecutor,
)

DOCUMENT = 'subscription Things($suffix: String! = "") { things { label(suffix: $suffix) email } }'
ALIASED = (
    'subscription Things($suffix: String! = "") { things { title: label(suffix: $suffix) email } }'
)
BROKEN = "subscription { things { label broken } }"
REPLAYED = "subscription { replayedThings { label email } }"


@dataclass(frozen=True)
class Viewer:
    """Stands in for users.models.User: what the audience and `email` look at."""

    id: int
    is_admin: bool = False


@dataclass(frozen=True)
class SignedIn:
    """Stands in for auth.service.Principal."""

    user: Viewer
    session_id: str = "session"


ADMIN_A, ADMIN_B, ADMIN_C = Viewer(10, is_admin=True), Viewer(11, True), Viewer(12, True)
USER_1, USER_2 = Viewer(OWNER_ID), Viewer(2)


class Auth:
    """Stands in for AuthService: any token authenticates as `viewer`."""

    def __init__(self, viewer: Viewer) -> None:
        self.viewer = viewer

    async def authenticate(self, token: str) -> Any:
        return SignedIn(self.viewer)


def known(viewer: Viewer) -> SubscriberContext:
    """A context whose operation already checked the session: its viewer is known."""
    context = SubscriberContext(
        services=cast(Any, SimpleNamespace(auth=None)),
        request=cast(Any, SimpleNamespace(headers={})),
        response=None,
        loaders=cast(Any, None),
    )
    context._principal = cast(Any, SignedIn(viewer))
    return context


def not_yet_known(viewer: Viewer) -> SubscriberContext:
    """A context with a token whose session is not checked yet (no known viewer)."""
    context = SubscriberContext(
        services=cast(Any, SimpleNamespace(auth=Auth(viewer))),
        request=cast(Any, SimpleNamespace(headers={"authorization": "Bearer token"})),
        response=None,
        loaders=cast(Any, None),
    )
    assert context.known_viewer is None
    return context


@dataclass
class Subscriber:
    context: SubscriberContext
    stream: AsyncGenerator[ExecutionResult, None]

    async def next_result(self) -> ExecutionResult:
        return await asyncio.wait_for(anext(self.stream), TIMEOUT)


class Subscriptions:
    """Opens subscriptions on SCHEMA, and closes them all after the test."""

    def __init__(self) -> None:
        self.opened: list[Subscriber] = []

    async def open(
        self,
        context: SubscriberContext,
        document: str = DOCUMENT,
        variables: dict[str, Any] | None = None,
    ) -> Subscriber:
        stream = await SCHEMA.subscribe(document, variable_values=variables, context_value=context)
        subscriber = Subscriber(context, stream)
        self.opened.append(subscriber)
        return subscriber

    async def close(self) -> None:
        for subscriber in self.opened:
            await subscriber.stream.aclose()


@pytest.fixture
async def subscriptions() -> AsyncIterator[Subscriptions]:
    opened = Subscriptions()
    yield opened
    await opened.close()


async def deliver(delivery: Message, subscribers: list[Subscriber]) -> list[ExecutionResult]:
    """Hand the same delivery to every subscriber, as the hub does; their results."""
    for subscriber in subscribers:
        subscriber.context.deliveries.put_nowait(delivery)
    return list(await asyncio.gather(*(s.next_result() for s in subscribers)))


def counters() -> tuple[int, int]:
    stats = shared_execution.stats()
    return stats["executed"], stats["reused"]


def roots() -> int:
    gc.collect()
    return shared_execution.stats()["roots"]


async def test_subscribers_with_the_same_key_share_one_execution_encoded_once(
    subscriptions: Subscriptions, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given three admins subscribed with the same document and variables
    subscribers = [await subscriptions.open(known(admin)) for admin in (ADMIN_A, ADMIN_B, ADMIN_C)]

    # when the same event reaches all three
    results = await deliver(Message("things", "same-key"), subscribers)

    # then the selection set ran once, and all three hold the very same data
    assert RESOLVED["same-key"] == 1
    assert all(r.errors is None for r in results)
    expected = {"things": {"label": "same-key", "email": EMAIL}}
    assert [r.data for r in results] == [expected] * 3
    data = results[0].data
    assert isinstance(data, EncodedOnce)
    assert all(r.data is data for r in results)

    # and each socket's frame (either protocol) is what json.dumps would have
    # sent with its own id, while the data itself is serialized only once
    encoded: list[object] = []
    dumps = json.dumps

    def counting_dumps(obj: Any, **kwargs: Any) -> str:
        encoded.append(obj)
        return dumps(obj, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(json, "dumps", counting_dumps)
        messages = [
            *(
                {"id": str(7 + i), "type": "next", "payload": {"data": r.data}}
                for i, r in enumerate(results)
            ),
            *(
                {"type": "data", "id": str(7 + i), "payload": {"data": r.data}}
                for i, r in enumerate(results)
            ),
        ]
        frames = [encode_frame(message) for message in messages]
    for message, frame in zip(messages, frames, strict=True):
        assert frame is not None
        assert json.loads(frame) == json.loads(json.dumps(message))
    assert [json.loads(cast(str, frame))["id"] for frame in frames] == ["7", "8", "9"] * 2
    assert sum(obj is data for obj in encoded) == 1


def test_encode_frame_leaves_every_other_message_to_the_normal_encoder() -> None:
    # given shared data, and data that is not
    shared = EncodedOnce({"things": {"label": "x"}})
    plain = {"things": {"label": "x"}}
    error = {"message": "the resolver failed", "path": ["things", "broken"]}

    # when / then only a result frame holding nothing but shared data is spliced
    assert encode_frame({"id": "7", "type": "next", "payload": {"data": shared}}) is not None
    assert encode_frame({"id": "7", "type": "next", "payload": {"data": plain}}) is None
    assert encode_frame({"id": "7", "type": "next", "payload": {"data": None}}) is None
    assert (
        encode_frame({"id": "7", "type": "next", "payload": {"data": shared, "errors": [error]}})
        is None
    )
    assert encode_frame({"type": "data", "id": "7", "payload": {"data": plain}}) is None
    assert encode_frame({"id": "7", "type": "complete"}) is None
    assert encode_frame({"id": "7", "type": "error", "payload": [error]}) is None
    assert encode_frame({"type": "connection_ack"}) is None
    assert encode_frame({"type": "ping", "payload": shared}) is None
    assert encode_frame(shared) is None
    assert encode_frame("next") is None
    assert encode_frame(None) is None


async def test_each_audience_executes_for_itself_and_sees_its_own_fields(
    subscriptions: Subscriptions,
) -> None:
    # given two admins, the owner (user 1), and user 2 on two sockets
    admin_a, admin_b, user_1, user_2, user_2_again = [
        await subscriptions.open(known(viewer))
        for viewer in (ADMIN_A, ADMIN_B, USER_1, USER_2, USER_2)
    ]
    executed, reused = counters()

    # when the same event reaches all of them
    results = await deliver(
        Message("things", "audiences"), [admin_a, admin_b, user_1, user_2, user_2_again]
    )

    # then the admins share, user 2's two subscriptions share, and user 1 is alone
    assert RESOLVED["audiences"] == 3
    assert counters() == (executed + 3, reused + 2)
    a, b, one, two, two_again = (r.data for r in results)
    assert a is b
    assert two is two_again
    assert one is not a
    assert two is not a
    assert two is not one
    # and each sees what it may: admins and the owner the email, user 2 not
    assert a == {"things": {"label": "audiences", "email": EMAIL}}
    assert one == {"things": {"label": "audiences", "email": EMAIL}}
    assert two == {"things": {"label": "audiences", "email": None}}
    assert all(isinstance(data, EncodedOnce) for data in (a, one, two))


async def test_other_variables_or_another_document_execute_separately(
    subscriptions: Subscriptions,
) -> None:
    # given admins on one document with suffix "!" (twice) and "?", and on an alias of it
    bang = [
        await subscriptions.open(known(admin), variables={"suffix": "!"})
        for admin in (ADMIN_A, ADMIN_B)
    ]
    question = await subscriptions.open(known(ADMIN_C), variables={"suffix": "?"})
    aliased = await subscriptions.open(known(ADMIN_A), ALIASED, variables={"suffix": "!"})

    # when the same event reaches all of them
    results = await deliver(Message("things", "keys"), [*bang, question, aliased])

    # then one execution per (document, variables): three, each with its own data
    assert RESOLVED["keys"] == 3
    first_bang, second_bang, by_question, by_alias = (r.data for r in results)
    assert first_bang is second_bang
    assert first_bang == {"things": {"label": "keys!", "email": EMAIL}}
    assert by_question == {"things": {"label": "keys?", "email": EMAIL}}
    assert by_alias == {"things": {"title": "keys!", "email": EMAIL}}


async def test_a_viewer_not_known_yet_is_executed_for_alone_and_correctly(
    subscriptions: Subscriptions,
) -> None:
    # given the owner and user 2, both with sessions not checked yet by this operation
    owner = await subscriptions.open(not_yet_known(USER_1))
    other = await subscriptions.open(not_yet_known(USER_2))
    executed, reused = counters()

    # when the same event reaches both
    results = await deliver(Message("things", "unknown-viewer"), [owner, other])

    # then each executed for itself, and only the owner sees the email
    assert RESOLVED["unknown-viewer"] == 2
    assert counters() == (executed, reused)
    assert results[0].data == {"things": {"label": "unknown-viewer", "email": EMAIL}}
    assert results[1].data == {"things": {"label": "unknown-viewer", "email": None}}
    assert not any(isinstance(r.data, EncodedOnce) for r in results)


async def test_a_result_with_errors_is_not_shared(subscriptions: Subscriptions) -> None:
    # given three admins whose selection has a field that fails
    subscribers = [
        await subscriptions.open(known(admin), BROKEN) for admin in (ADMIN_A, ADMIN_B, ADMIN_C)
    ]

    # when the same event reaches all three
    results = await deliver(Message("things", "errors"), subscribers)

    # then each executed for itself and got errors of its own, in plain data
    assert RESOLVED["errors broken"] == 3
    for result in results:
        assert result.data == {"things": {"label": "errors", "broken": None}}
        assert not isinstance(result.data, EncodedOnce)
        assert result.errors is not None
        assert [e.message for e in result.errors] == ["the resolver failed"]
        frame = {"id": "7", "type": "next", "payload": {"data": result.data}}
        assert encode_frame(frame) is None
    first, second, third = (r.errors for r in results)
    assert first is not second
    assert second is not third
    assert first is not third


def test_a_shared_root_is_forgotten_once_nothing_references_it() -> None:
    # given a root registered with share() (twice: it is registered once)
    baseline = roots()
    thing = share(share(Thing(name="shared", _owner_id=OWNER_ID)))
    assert roots() == baseline + 1

    # when nothing references it any more
    del thing

    # then the registry forgets it
    assert roots() == baseline


async def test_a_delivered_root_is_forgotten_once_its_subscribers_moved_on(
    subscriptions: Subscriptions,
) -> None:
    # given two subscribers that received an event
    subscribers = [await subscriptions.open(known(admin)) for admin in (ADMIN_A, ADMIN_B)]
    baseline = roots()
    delivery = Message("things", "forgotten")
    await deliver(delivery, subscribers)
    root = weakref.ref(delivery.shared("Thing", partial(thing_of, delivery)))
    assert root() is not None
    assert roots() == baseline + 1

    # when the delivery is gone and they received the next event
    del delivery
    await deliver(Message("things", "forgotten-next"), subscribers)

    # then the first root is dropped from the registry: only the last one is held
    assert roots() == baseline + 1
    assert root() is None
    # and once the subscriptions end, none is
    await subscriptions.close()
    assert roots() == baseline


async def test_a_root_whose_execution_failed_is_forgotten_too(
    subscriptions: Subscriptions,
) -> None:
    # given two subscribers whose execution of an event failed
    subscribers = [await subscriptions.open(known(admin), BROKEN) for admin in (ADMIN_A, ADMIN_B)]
    baseline = roots()
    delivery = Message("things", "failed")
    await deliver(delivery, subscribers)
    root = weakref.ref(delivery.shared("Thing", partial(thing_of, delivery)))

    # when the delivery is gone and the subscriptions ended
    del delivery
    await subscriptions.close()
    await asyncio.sleep(0)  # the loop lets go of the finished gather (and its results)

    # then neither its registry entry nor the root is held any more
    assert roots() == baseline
    assert root() is None


async def test_the_counters_count_executions_and_reuses(subscriptions: Subscriptions) -> None:
    # given three admins and the owner on one document
    shared = [
        await subscriptions.open(known(viewer)) for viewer in (ADMIN_A, ADMIN_B, ADMIN_C, USER_1)
    ]
    executed, reused = counters()

    # when an event reaches them
    await deliver(Message("things", "counted"), shared)

    # then two executions (admins, user 1), and two results reused (admins B and C)
    assert counters() == (executed + 2, reused + 2)

    # when a second event reaches them, they count again
    await deliver(Message("things", "counted-again"), shared)
    assert counters() == (executed + 4, reused + 4)


async def test_a_root_not_registered_executes_normally_for_each(
    subscriptions: Subscriptions,
) -> None:
    # given admins and the owner subscribed to a stream that yields one object
    # for all but never share()s it (as a replay may)
    subscribers = [
        await subscriptions.open(known(viewer), REPLAYED)
        for viewer in (ADMIN_A, ADMIN_B, USER_1, USER_2)
    ]
    executed, reused = counters()
    baseline = roots()

    # when the same event reaches all of them
    delivery = Message("things", "replayed")
    results = await deliver(delivery, subscribers)

    # then each executed it for itself, as without shared execution
    assert RESOLVED["replayed"] == 4
    assert counters() == (executed, reused)
    assert roots() == baseline
    emails = [EMAIL, EMAIL, EMAIL, None]
    for result, email in zip(results, emails, strict=True):
        assert result.errors is None
        assert result.data == {"replayedThings": {"label": "replayed", "email": email}}
        assert not isinstance(result.data, EncodedOnce)
    assert results[0].data is not results[1].data
    assert encode_frame({"id": "7", "type": "next", "payload": {"data": results[0].data}}) is None
