"""A subscription's live events written straight to its socket, executed once per group.

The usual path of one live event to one subscriber wakes the subscription's
task, runs strawberry's per-result stream, builds the protocol message and
sends it through starlette and uvicorn: about 0.15 ms of CPU for each
subscriber, even when the result itself is shared (shared_execution.py).
A `FrameSink` does the same work once per group instead (the hub's
`DirectSink`): the event is executed once per share key, with the
subscription's own executor; each member then writes its own frame (its
operation id around the shared data) to its socket in one synchronous call.

The sink only sends what the subscription would have sent itself at that
moment: the hub asks it only while the subscription's task waits with nothing
queued, and the subscription decides through `accepts` (which it shares with
its own loop) and learns through `sent` what went out. Anything else is
queued for the subscription's loop: an event it must look at (a gap, a
session re-check), or one that came while it was busy. The loop sends what it
has to through the sink as well (`send`), so a subscriber that fell behind
catches up at nearly the same cost; it yields to strawberry only a result
with errors, or when its socket is not taking data.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import cast

from strawberry.utils.await_maybe import await_maybe

from ticketing.graphql.context import Context, Info
from ticketing.graphql.errors import TicketingSchema
from ticketing.graphql.shared_execution import (
    FRAME_TAIL,
    RUNNING_EXECUTOR,
    EncodedOnce,
    SharedEventExecutor,
    frame_head,
)
from ticketing.realtime.hub import Message
from ticketing.ws_protocol import SEND_TEXT_NOW

_TAIL = FRAME_TAIL.encode()

# The WebSocket operation whose task is being started: its id and the type of
# its result messages ("next" on graphql-transport-ws, "data" on graphql-ws).
STARTING_OPERATION: ContextVar[tuple[str, str] | None] = ContextVar(
    "starting_operation", default=None
)


class _Counts:
    written = 0  # frames written by sinks


def written_directly() -> int:
    """For /diagnostics: live results written straight to their sockets."""
    return _Counts.written


@contextmanager
def starting_operation(operation_id: str, message_type: str) -> Iterator[None]:
    """Around the creation of an operation's task, which copies this into its context."""
    token = STARTING_OPERATION.set((operation_id, message_type))
    try:
        yield
    finally:
        STARTING_OPERATION.reset(token)


class FrameSink:
    """The hub's `DirectSink` for one subscription on one socket."""

    __slots__ = ("_accepts", "_executor", "_head", "_root_of", "_send", "_sent")

    def __init__(
        self,
        send: Callable[[bytes], bool],
        head: bytes,
        executor: SharedEventExecutor,
        accepts: Callable[[Message], bool],
        root_of: Callable[[Message], object],
        sent: Callable[[Message], None],
    ) -> None:
        self._send = send
        self._head = head
        self._executor = executor
        self._accepts = accepts
        self._root_of = root_of
        self._sent = sent

    def group_of(self, message: Message) -> Hashable | None:
        if not self._accepts(message):
            return None
        return self._executor.share_key()

    async def render(self, message: Message) -> bytes | None:
        return await self._payload(self._root_of(message))

    def write(self, message: Message, payload: bytes) -> bool:
        # `group_of` accepted it, and the hub checked that the subscription's
        # loop has not run since (Hub: the consumer is still in the same wait).
        if not self._write(payload):
            return False
        self._sent(message)
        return True

    async def send(self, root: object) -> bool:
        """For the subscription's own loop: send what it would yield; False: yield it instead.

        The loop's backlog (a replay, events queued while it was busy) is sent
        this way too, each result executed once for all who send it.
        """
        payload = await self._payload(root)
        return payload is not None and self._write(payload)

    async def _payload(self, root: object) -> bytes | None:
        per_event = self._executor.build_per_event_executor(root)
        result = await await_maybe(per_event.execute_operation(False))
        data = result.data
        if result.errors or result.extensions or not isinstance(data, EncodedOnce):
            return None  # the usual path executes it again and reports the errors
        return data.utf8

    def _write(self, payload: bytes) -> bool:
        if not self._send(self._head + payload + _TAIL):
            return False
        _Counts.written += 1
        return True


def frame_sink(
    info: Info,
    *,
    accepts: Callable[[Message], bool],
    root_of: Callable[[Message], object],
    sent: Callable[[Message], None],
) -> FrameSink | None:
    """A sink for the subscription `info` resolves, or None where it must take the usual path.

    `accepts(message)`: the subscription would yield `root_of(message)` next;
    `sent(message)`: it was sent. None outside a WebSocket served by
    `ticketing serve`'s protocol, and where results carry extensions.
    """
    context: Context = info.context
    operation = STARTING_OPERATION.get()
    executor = RUNNING_EXECUTOR.get()
    send = context.request.scope.get("extensions", {}).get(SEND_TEXT_NOW)
    schema = info.schema
    if (
        operation is None
        or executor is None
        or send is None
        or not isinstance(schema, TicketingSchema)
        or schema.results_carry_extensions
        or executor.share_key() is None
    ):
        return None
    head = frame_head(*operation).encode()
    return FrameSink(cast("Callable[[bytes], bool]", send), head, executor, accepts, root_of, sent)
