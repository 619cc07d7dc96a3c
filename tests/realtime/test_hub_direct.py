"""The hub's direct rounds: a message rendered once per group and written by each waiting sink.

Real hub and listeners; the sinks stand in for a subscription's FrameSink and
record what they render and write. A listener's consumer is "waiting" while a
task is parked in `listener.next()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Hashable
from contextlib import AsyncExitStack

import pytest

from ticketing.realtime.hub import Delivery, Gap, Hub, Listener, Message

CHANNEL = "room"


async def _nothing(_: str) -> None:
    return None


class Sink:
    """Accepts what `accepts` says; renders `payload` (after `gate`, if set); records writes."""

    def __init__(self, group: Hashable = "everyone") -> None:
        self.group = group
        self.accepts = True
        self.takes_writes = True
        self.payload: bytes | None = b"rendered"
        self.error: Exception | None = None
        self.gate: asyncio.Event | None = None
        self.rendered: list[str] = []
        self.written: list[str] = []

    def group_of(self, message: Message) -> Hashable | None:
        return self.group if self.accepts else None

    async def render(self, message: Message) -> bytes | None:
        self.rendered.append(message.data)
        if self.gate is not None:
            await self.gate.wait()
        if self.error is not None:
            raise self.error
        return self.payload

    def write(self, message: Message, payload: bytes) -> bool:
        if not self.takes_writes:
            return False
        self.written.append(message.data)
        return True


class Consumer:
    """Waits on a listener as a subscription does, collecting what it is handed."""

    def __init__(self, listener: Listener) -> None:
        self.listener = listener
        self.handed: list[Delivery] = []
        self.pause_after_next: asyncio.Event | None = None
        self._task = asyncio.create_task(self._consume())

    async def _consume(self) -> None:
        async for delivery in self.listener:
            self.handed.append(delivery)
            if self.pause_after_next is not None:
                await self.pause_after_next.wait()

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


@pytest.fixture
async def stack() -> AsyncIterator[AsyncExitStack]:
    async with AsyncExitStack() as stack:
        yield stack


async def waiting_listener(hub: Hub, stack: AsyncExitStack, sink: Sink | None) -> Consumer:
    listener = await stack.enter_async_context(hub.listening([CHANNEL], max_queued=8))
    listener.sink = sink
    consumer = Consumer(listener)
    stack.push_async_callback(consumer.stop)
    await asyncio.sleep(0)  # parked in next()
    assert listener.idle
    return consumer


async def waiting_with_a_slow_render(stack: AsyncExitStack) -> tuple[Hub, Sink, Consumer]:
    """A hub and one waiting consumer whose sink renders only once `sink.gate` is set."""
    hub = Hub(_nothing, _nothing)
    sink = Sink()
    sink.gate = asyncio.Event()
    return hub, sink, await waiting_listener(hub, stack, sink)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def routes(hub: Hub) -> dict[str, int]:
    """The hub's non-zero route counts (Routes)."""
    return {name: count for name, count in hub.route_counts().items() if count}


def data(handed: list[Delivery]) -> list[str]:
    return [d.data if isinstance(d, Message) else "gap" for d in handed]


async def test_waiting_sinks_are_written_and_their_group_rendered_once(
    stack: AsyncExitStack,
) -> None:
    hub = Hub(_nothing, _nothing)
    admins = [Sink("admins") for _ in range(3)]
    owner = Sink("owner")
    consumers = [await waiting_listener(hub, stack, sink) for sink in [*admins, owner]]

    hub.dispatch(CHANNEL, "hello")
    await settle()

    assert [sink.written for sink in [*admins, owner]] == [["hello"]] * 4
    assert sum(len(sink.rendered) for sink in admins) == 1
    assert owner.rendered == ["hello"]
    assert all(consumer.handed == [] for consumer in consumers)  # none was woken
    assert routes(hub) == {"direct": 4}


async def test_a_listener_without_a_sink_or_whose_sink_declines_is_handed_the_message(
    stack: AsyncExitStack,
) -> None:
    hub = Hub(_nothing, _nothing)
    declining = Sink()
    declining.accepts = False
    plain = await waiting_listener(hub, stack, None)
    declined = await waiting_listener(hub, stack, declining)

    hub.dispatch(CHANNEL, "hello")
    await settle()

    assert data(plain.handed) == ["hello"]
    assert data(declined.handed) == ["hello"]
    assert declining.rendered == declining.written == []
    assert routes(hub) == {"plain": 1, "declined": 1}


@pytest.mark.parametrize("failure", ["no payload", "render raises", "write declines"])
async def test_when_the_direct_way_fails_the_message_is_handed_over_instead(
    stack: AsyncExitStack, failure: str, caplog: pytest.LogCaptureFixture
) -> None:
    hub = Hub(_nothing, _nothing)
    sinks = [Sink(), Sink()]
    for sink in sinks:
        if failure == "no payload":
            sink.payload = None
        elif failure == "render raises":
            sink.error = RuntimeError("broken resolver")
        else:
            sink.takes_writes = False
    consumers = [await waiting_listener(hub, stack, sink) for sink in sinks]

    with caplog.at_level(logging.ERROR, logger="ticketing.realtime.hub"):
        hub.dispatch(CHANNEL, "hello")
        await settle()

    assert [data(consumer.handed) for consumer in consumers] == [["hello"], ["hello"]]
    assert all(sink.written == [] for sink in sinks)
    logged = [record for record in caplog.records if record.exc_info]
    assert len(logged) == (1 if failure == "render raises" else 0)
    assert routes(hub) == {"unwritten" if failure == "write declines" else "unrendered": 2}


async def test_messages_that_arrive_while_a_group_renders_follow_in_order(
    stack: AsyncExitStack,
) -> None:
    hub, sink, _ = await waiting_with_a_slow_render(stack)

    hub.dispatch(CHANNEL, "first")
    await settle()
    hub.dispatch(CHANNEL, "second")
    hub.dispatch(CHANNEL, "third")
    await settle()
    assert sink.written == []  # the first is still rendering: nothing overtakes it

    sink.gate.set()
    await settle()

    assert sink.written == ["first", "second", "third"]


@pytest.mark.parametrize("waiting_again", [False, True], ids=["still-busy", "waiting-again"])
async def test_a_consumer_woken_during_the_render_is_handed_the_message_after_what_woke_it(
    stack: AsyncExitStack, waiting_again: bool
) -> None:
    hub, sink, consumer = await waiting_with_a_slow_render(stack)
    if not waiting_again:
        consumer.pause_after_next = asyncio.Event()  # busy with what wakes it

    hub.dispatch(CHANNEL, "hello")
    await settle()
    hub.signal_gap()  # e.g. the broker reconnected: the consumer must look
    await settle()
    assert consumer.listener.idle is waiting_again
    sink.gate.set()
    await settle()

    # Even back in a wait, it may have moved its subscriber on while awake (a
    # gap reads the database): the sink's earlier answer no longer holds, so the
    # consumer is handed the message and decides.
    assert sink.written == []
    if consumer.pause_after_next is not None:
        consumer.pause_after_next.set()
        await settle()
    assert data(consumer.handed) == ["gap", "hello"]
    assert routes(hub) == {"woke": 1}


async def test_a_consumer_that_stayed_in_its_wait_is_written_without_asking_its_sink_again(
    stack: AsyncExitStack,
) -> None:
    hub, sink, consumer = await waiting_with_a_slow_render(stack)
    asked: list[str] = []
    accepted = sink.group_of

    def counting_group_of(message: Message) -> Hashable | None:
        asked.append(message.data)
        return accepted(message)

    sink.group_of = counting_group_of  # type: ignore[method-assign]

    hub.dispatch(CHANNEL, "hello")
    await settle()
    sink.gate.set()
    await settle()

    assert asked == ["hello"]
    assert sink.written == ["hello"]
    assert consumer.handed == []
    assert routes(hub) == {"direct": 1}


async def test_a_busy_consumer_gets_the_message_queued_behind_what_it_holds(
    stack: AsyncExitStack,
) -> None:
    hub = Hub(_nothing, _nothing)
    sink = Sink()
    listener = await stack.enter_async_context(hub.listening([CHANNEL], max_queued=8))
    listener.sink = sink  # but nobody waits on it: its consumer is busy

    hub.dispatch(CHANNEL, "one")
    hub.dispatch(CHANNEL, "two")
    await settle()

    assert sink.written == []
    assert [await listener.next(), await listener.next()] == [
        Message(CHANNEL, "one"),
        Message(CHANNEL, "two"),
    ]
    assert routes(hub) == {"busy": 2}


async def test_a_listener_that_leaves_loses_its_sink() -> None:
    hub = Hub(_nothing, _nothing)
    async with hub.listening([CHANNEL], max_queued=8) as listener:
        listener.sink = Sink()
    assert listener.sink is None


async def test_a_full_queue_is_replaced_by_a_gap() -> None:
    hub = Hub(_nothing, _nothing)
    async with hub.listening([CHANNEL], max_queued=2) as listener:
        for number in range(4):  # m2 finds m0 and m1 queued: they make way for a gap
            hub.dispatch(CHANNEL, f"m{number}")
        held = [await listener.next(), await listener.next()]
    assert isinstance(held[0], Gap)
    assert held[1] == Message(CHANNEL, "m3")
