"""A live event is executed once per audience, and serialized once, not once per subscriber.

Every subscriber of a channel in this process is handed the same `hub.Message`
for an event, and makes the object it yields from it through `shared_root`:
all of them yield the very same object. graphql-core then runs the
subscription's selection set on that root once per subscriber; the executor
below runs it once for each (operation document, variables, audience) and
hands every subscriber with that key the same result, whose data serializes
itself once (`EncodedOnce`, which the view's `encode_json` splices into each
socket's frame).

The audience is everything a result may depend on besides the document, the
variables and the root: field visibility depends on whether the viewer is an
admin and, for a user, on who they are (`User.email`). Subscribers with the
same key would compute byte-identical results, so sharing changes nothing they
see. A result with errors is never shared: each subscriber then executes for
itself, exactly as without this module.
"""

from __future__ import annotations

import asyncio
import json
import weakref
from collections.abc import Callable, Hashable
from contextvars import ContextVar
from functools import partial
from typing import Any, TypeVar, cast

from graphql import ExecutionResult, OperationType
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.utils.await_maybe import await_maybe

from ticketing.graphql.context import Context
from ticketing.realtime.hub import Message

T = TypeVar("T")
SharedResults = dict[Hashable, "tuple[object, asyncio.Future[ExecutionResult]]"]

# Results per shared root, keyed by id(root) for as long as the root lives
# (GraphQL object types are dataclasses: unhashable, but weakly referable).
_RESULTS: dict[int, SharedResults] = {}


def shared_root(delivery: Message, kind: str, make: Callable[[], T]) -> T:
    """The object every subscriber of `delivery` yields for `kind`, made once."""

    def make_shared() -> T:
        return share(make())

    return delivery.shared(kind, make_shared)


def share(root: T) -> T:
    """Mark `root` as yielded to several subscribers: its execution is shared."""
    key = id(root)
    if key not in _RESULTS:
        _RESULTS[key] = {}
        weakref.finalize(root, _RESULTS.pop, key, None)
    return root


class _Counts:
    executed = 0  # selection sets run on a shared root
    reused = 0  # results handed to a further subscriber instead


def stats() -> dict[str, int]:
    """For /diagnostics: how much execution was shared, and roots still held."""
    return {"executed": _Counts.executed, "reused": _Counts.reused, "roots": len(_RESULTS)}


class EncodedOnce(dict[str, Any]):
    """A result's data, shared by many subscribers: its JSON is made on first use."""

    __slots__ = ("_encoded", "_utf8")

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__(data)
        self._encoded: str | None = None
        self._utf8: bytes | None = None

    @property
    def encoded(self) -> str:
        if self._encoded is None:
            self._encoded = json.dumps(self, separators=(",", ":"))
        return self._encoded

    @property
    def utf8(self) -> bytes:
        if self._utf8 is None:
            self._utf8 = self.encoded.encode()
        return self._utf8


def frame_head(operation_id: str, message_type: str) -> str:
    """`{"id":…,"type":…,"payload":{"data":` — a result frame up to its data; FRAME_TAIL ends it."""
    head = json.dumps({"id": operation_id, "type": message_type}, separators=(",", ":"))
    return f'{head[:-1]},"payload":{{"data":'


FRAME_TAIL = "}}"


def encode_frame(message: object) -> str | None:
    """The frame for a subscription result whose data is shared, else None.

    `{"id": …, "type": "next"|"data", "payload": {"data": …}}` with the
    payload's JSON spliced in as it is, not serialized again.
    """
    if not isinstance(message, dict):
        return None
    payload = message.get("payload")
    if not isinstance(payload, dict) or len(payload) != 1:
        return None
    data = payload.get("data")
    operation_id, message_type = message.get("id"), message.get("type")
    if (
        not isinstance(data, EncodedOnce)
        or len(message) != 3
        or not isinstance(operation_id, str)
        or not isinstance(message_type, str)
    ):
        return None
    return frame_head(operation_id, message_type) + data.encoded + FRAME_TAIL


def _audience(context: object) -> Hashable | None:
    if not isinstance(context, Context):
        return None
    user = context.known_viewer
    if user is None:
        return None  # not known without an await: execute for this subscriber alone
    return "admin" if user.is_admin else ("user", user.id)


def _variables_key(variables: dict[str, Any]) -> str:
    return json.dumps(variables, sort_keys=True, default=repr, separators=(",", ":"))


def _forget_unless_shared(
    results: SharedResults, key: Hashable, future: asyncio.Future[ExecutionResult]
) -> None:
    """Keep only a result that is shared; drop one that failed or has errors.

    An error's traceback holds the resolvers' frames, which hold the root: kept
    in the registry, it would keep the root (and so itself) alive for ever.
    Reading the outcome here also keeps asyncio from logging it as never
    retrieved when every waiter has gone.
    """
    if future.cancelled() or future.exception() is not None or future.result().errors:
        results.pop(key, None)


# The executor of the operation being set up in this task (each WebSocket
# operation runs in a task of its own): its subscription resolver may hand it
# to a direct sink (graphql/direct_frames.py) that executes events with it.
RUNNING_EXECUTOR: ContextVar[SharedEventExecutor | None] = ContextVar(
    "running_executor", default=None
)


class SharedEventExecutor(StrawberryGraphQLCoreExecutionContext):
    """strawberry's graphql-core executor, executing an event's shared root once per key."""

    # The variables as part of the key, made once per subscription (on the
    # executor that each event's executor is copied from), not once per event.
    _variables_key: str | None = None

    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> Any:
        built = super().build(*args, **kwargs)
        if isinstance(built, SharedEventExecutor):
            RUNNING_EXECUTOR.set(built)
        return built

    def build_per_event_executor(self, payload: Any) -> Any:
        self._shared_variables_key()  # before the copy, which then has it
        return super().build_per_event_executor(payload)

    def _shared_variables_key(self) -> str:
        if self._variables_key is None:
            self._variables_key = _variables_key(self.variable_values.coerced)
        return self._variables_key

    def share_key(self) -> Hashable | None:
        """Subscribers with the same key get the same result for the same root; None: not shared."""
        audience = _audience(self.context_value)
        if audience is None or self.operation.operation is not OperationType.SUBSCRIPTION:
            return None
        # The operation node is kept with a shared result: its id stays its own.
        return (id(self.operation), self._shared_variables_key(), audience)

    def execute_operation(self, serially: bool | None = None) -> Any:
        results = _RESULTS.get(id(self.root_value))
        key = None if results is None else self.share_key()
        if results is None or key is None:
            return super().execute_operation(serially)
        entry = results.get(key)
        if entry is None:
            _Counts.executed += 1
            future = asyncio.ensure_future(self._execute_for_all(serially))
            future.add_done_callback(partial(_forget_unless_shared, results, key))
            results[key] = (self.operation, future)
            return self._result_of(future, first=True, serially=serially)
        _Counts.reused += 1
        return self._result_of(entry[1], first=False, serially=serially)

    async def _execute_for_all(self, serially: bool | None) -> ExecutionResult:
        result = await self._execute_alone(serially)
        if result.errors or result.data is None:
            return result
        return ExecutionResult(data=EncodedOnce(result.data), extensions=result.extensions)

    async def _result_of(
        self, future: asyncio.Future[ExecutionResult], *, first: bool, serially: bool | None
    ) -> ExecutionResult:
        # Shielded: a subscriber that goes away must not cancel the others' result.
        result = await asyncio.shield(future)
        if result.errors and not first:
            return await self._execute_alone(serially)
        return result

    async def _execute_alone(self, serially: bool | None) -> ExecutionResult:
        # A subscription event never yields incremental (@defer/@stream) results.
        outcome = await await_maybe(super().execute_operation(serially))
        return cast("ExecutionResult", outcome)
