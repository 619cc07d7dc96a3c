"""In-process fan-out: each local listener gets the messages of its channels.

The hub knows which channels have local listeners, so a broker subscribes to a
channel upstream (Redis) only while someone here needs it, and once per process
however many listeners share it.

A listener normally queues what it gets and its consumer (a subscription's
task) wakes to handle it. A listener may also carry a `DirectSink`: while its
consumer waits with nothing queued, a message the sink accepts is rendered once
for every sink of the same group and written to each socket from here, without
waking a single consumer (see `DirectSink`). Whatever a sink declines, or
cannot take any more when the rendering is done, is queued as usual.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Protocol, TypeVar, cast

from ticketing.light_async import Inbox

T = TypeVar("T")
logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Message:
    """One published message, handed as this very object to every local listener.

    `received_at` (monotonic) is when this process got it. `shared` lets its
    listeners make what they all need of it (the decoded event, the GraphQL
    object they yield) once instead of once each.
    """

    channel: str
    data: str
    received_at: float = field(default_factory=time.monotonic, compare=False)
    _made: dict[str, object] = field(default_factory=dict, compare=False, repr=False)

    def shared(self, kind: str, make: Callable[[], T]) -> T:
        """`make()` the first time a listener asks for `kind`; the same object afterwards."""
        if kind not in self._made:
            self._made[kind] = make()
        return cast("T", self._made[kind])


@dataclass(frozen=True, slots=True)
class Gap:
    """Events may have been lost (upstream reconnected, or this listener fell behind).

    Whatever was lost was committed before `at` (monotonic): a database read
    started after it sees all of it.
    """

    at: float = field(default_factory=time.monotonic, compare=False)


Delivery = Message | Gap
ChannelHook = Callable[[str], Awaitable[None]]


class DirectSink(Protocol):
    """What a listener's consumer would do with a message, done without waking it.

    The hub asks only while the consumer waits with nothing queued: everything
    it was handed before is handled, so a message taken here is in order.
    """

    def group_of(self, message: Message) -> Hashable | None:
        """The group whose members all write the same payload for `message`; None: queue it."""
        ...

    def render(self, message: Message) -> Awaitable[bytes | None]:
        """The payload of this sink's group for `message`; None: each member queues it."""
        ...

    def write(self, message: Message, payload: bytes) -> bool:
        """Send `payload` as the consumer would have; False (nothing sent): queue it.

        Only for a message `group_of` accepted, its consumer still in the same
        wait: nothing the sink's answer rests on can have moved since.
        """
        ...


class Ordering(Protocol):
    """Puts a channel's messages back in order before they fan out (realtime/ordering.py)."""

    held: int  # messages that came before their predecessor
    released_late: int  # of those, released when the wait ran out

    def push(self, message: Message) -> None: ...

    def forget(self, channel: str) -> None: ...

    def restart(self) -> None: ...


class Routes:
    """How this process's deliveries went, for /diagnostics.

    `direct`: written by a direct round. Every other delivery was queued for its
    consumer, counted by the reason: it has no sink (`plain`); its consumer was
    busy or had a backlog (`busy`); the sink declined it (`declined`: not the
    next event for that subscriber, or a session re-check is due); the render
    gave nothing (`unrendered`); the consumer woke while the group rendered
    (`woke`); or the socket did not take the frame (`unwritten`). A run whose
    latency is worse than another's shows here which way its deliveries went.
    """

    __slots__ = ("busy", "declined", "direct", "plain", "unrendered", "unwritten", "woke")

    def __init__(self) -> None:
        self.direct = self.plain = self.busy = self.declined = 0
        self.unrendered = self.woke = self.unwritten = 0

    def counts(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in sorted(self.__slots__)}


class Listener(Inbox["Delivery"]):
    """One subscriber's bounded queue over one or more channels."""

    __slots__ = ("_max_queued", "channels", "sink")

    def __init__(self, channels: frozenset[str], max_queued: int) -> None:
        super().__init__()
        self.channels = channels
        self.sink: DirectSink | None = None
        self._max_queued = max_queued

    def deliver(self, item: Delivery) -> None:
        if self.qsize() >= self._max_queued:
            # A consumer this far behind is not buffered without bound: what is
            # queued is dropped and it is told so (chat replays from the database).
            self.clear()
            item = Gap()
        self.put_nowait(item)

    async def next(self) -> Delivery:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            # The task was told to stop, but an await on the way here swallowed
            # the CancelledError (asyncio.wait_for in Python 3.11 can, inside
            # database drivers: CPython gh-86296). Waiting now would wait for
            # ever on a socket that is gone; stop as the caller asked.
            raise asyncio.CancelledError
        return await self.get()

    def __aiter__(self) -> Listener:
        return self

    async def __anext__(self) -> Delivery:
        return await self.next()


async def _render(sink: DirectSink, message: Message) -> bytes | None:
    try:
        return await sink.render(message)
    except Exception:
        # Its consumers get the message queued and handle it themselves (and
        # report what fails there to their clients).
        logger.exception("Rendering a message for direct delivery failed")
        return None


# Each member with the token of the wait its consumer was in when its sink accepted.
Groups = dict[Hashable, list[tuple[Listener, object]]]


async def _send_to_groups(message: Message, groups: Groups, routes: Routes) -> None:
    for members in groups.values():
        sink = members[0][0].sink
        payload = None if sink is None else await _render(sink, message)
        if payload is None:
            routes.unrendered += len(members)
            for listener, _ in members:
                listener.deliver(message)
            continue
        for listener, token in members:
            sink = listener.sink
            # While the group rendered, a consumer may have woken (a gap, a
            # log-out) and moved its subscriber on, even if it waits again now:
            # then it gets the message queued and decides itself. One still in
            # the same wait cannot have moved, so its sink's answer stands and
            # is not asked again (that second question was a tenth of a
            # back-to-back fan-out's CPU). A session re-check that fell due
            # during the render waits for the next message.
            if sink is None or listener.wait_token() is not token:
                routes.woke += 1
                listener.deliver(message)
            elif sink.write(message, payload):
                routes.direct += 1
            else:
                routes.unwritten += 1
                listener.deliver(message)


class Listening:
    """`async with hub.listening(...) as listener` (a class: it lives as long as a subscription)."""

    __slots__ = ("_hub", "_listener")

    def __init__(self, hub: Hub, listener: Listener) -> None:
        self._hub = hub
        self._listener = listener

    async def __aenter__(self) -> Listener:
        await self._hub._enter(self._listener)
        return self._listener

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._hub._leave(self._listener)


class Hub:
    def __init__(
        self,
        on_first: ChannelHook,
        on_last: ChannelHook,
        ordering: Callable[[Callable[[Message], None]], Ordering] | None = None,
    ) -> None:
        self._listeners: dict[str, set[Listener]] = {}
        self._on_first = on_first
        self._on_last = on_last
        self._ordering = None if ordering is None else ordering(self._fan_out)
        # Channels with a direct round in flight, and the messages waiting behind it.
        self._rounds: dict[str, deque[Message]] = {}
        self._round_tasks: set[asyncio.Task[None]] = set()
        self.routes = Routes()

    @property
    def channels(self) -> list[str]:
        return list(self._listeners)

    @property
    def listener_count(self) -> int:
        return len({id(lst) for group in self._listeners.values() for lst in group})

    def listening(self, channels: Iterable[str], max_queued: int) -> Listening:
        """A listener for as long as the `async with` lasts, however it ends."""
        return Listening(self, Listener(frozenset(channels), max_queued))

    async def _enter(self, listener: Listener) -> None:
        # The bookkeeping is done before any await, so a task cancelled while
        # the upstream (un)subscribe is in flight still leaves nothing behind.
        try:
            for channel in self._register(listener):
                await self._on_first(channel)
        except BaseException:
            await self._leave(listener)
            raise

    async def _leave(self, listener: Listener) -> None:
        listener.sink = None
        for channel in self._unregister(listener):
            await self._on_last(channel)

    def _register(self, listener: Listener) -> list[str]:
        new_channels = []
        for channel in listener.channels:
            group = self._listeners.setdefault(channel, set())
            group.add(listener)
            if len(group) == 1:
                new_channels.append(channel)
        return new_channels

    def _unregister(self, listener: Listener) -> list[str]:
        emptied = []
        for channel in listener.channels:
            group = self._listeners.get(channel)
            if group is None or listener not in group:
                continue
            group.discard(listener)
            if not group:
                del self._listeners[channel]
                emptied.append(channel)
                if self._ordering is not None:
                    self._ordering.forget(channel)
        return emptied

    def dispatch(self, channel: str, data: str) -> None:
        message = Message(channel, data)
        if self._ordering is None:
            self._fan_out(message)
        else:
            self._ordering.push(message)

    def _fan_out(self, message: Message) -> None:
        channel = message.channel
        waiting = self._rounds.get(channel)
        if waiting is not None:
            waiting.append(message)  # behind the round in flight, in order
            return
        groups = self._queue_or_group(message)
        if groups:
            self._rounds[channel] = deque()
            task = asyncio.get_running_loop().create_task(self._direct_rounds(message, groups))
            self._round_tasks.add(task)
            task.add_done_callback(self._round_tasks.discard)

    def _queue_or_group(self, message: Message) -> Groups:
        """Queue `message` to each listener that cannot take it directly; group the rest."""
        groups: Groups = {}
        routes = self.routes
        for listener in tuple(self._listeners.get(message.channel, ())):
            sink = listener.sink
            if sink is None:
                routes.plain += 1
            elif (token := listener.wait_token()) is None:
                routes.busy += 1
            elif (key := sink.group_of(message)) is None:
                routes.declined += 1
            else:
                groups.setdefault(key, []).append((listener, token))
                continue
            listener.deliver(message)
        return groups

    def route_counts(self) -> dict[str, int]:
        """`Routes.counts()`, and how many messages the ordering held (for /diagnostics)."""
        held = {}
        if self._ordering is not None:
            held = {"held": self._ordering.held, "released_late": self._ordering.released_late}
        return {**self.routes.counts(), **held}

    async def _direct_rounds(self, message: Message, groups: Groups) -> None:
        """Send `message` to its groups, then each message that arrived meanwhile, in order."""
        channel = message.channel
        waiting = self._rounds[channel]
        try:
            while groups:
                await _send_to_groups(message, groups, self.routes)
                groups = {}
                while waiting and not groups:
                    message = waiting.popleft()
                    groups = self._queue_or_group(message)
        finally:
            del self._rounds[channel]
            for late in waiting:  # only if cancelled: queue them, in order
                for listener in tuple(self._listeners.get(channel, ())):
                    listener.deliver(late)

    def signal_gap(self) -> None:
        if self._ordering is not None:
            self._ordering.restart()
        gap = Gap()
        for listener in {lst for group in self._listeners.values() for lst in group}:
            listener.deliver(gap)
