"""Error mapping in one place: every error leaves with the contract's `extensions.code`.

Domain errors keep their message and code. Errors of the GraphQL layer itself
(syntax, validation, variable coercion) are the client's: BAD_USER_INPUT.
Anything else is a bug: the client sees a generic INTERNAL_SERVER_ERROR, and
the full traceback goes to the server log. When the cause is a database or
Redis that cannot be reached, the code is the same but the message says so
(the client may retry; nothing it sent was wrong).
"""

from __future__ import annotations

import asyncio
import logging
import time
from functools import cached_property
from typing import Any

from graphql.error import GraphQLError
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import MaskErrors, SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionContext

from ticketing.activity import service as activity
from ticketing.activity.models import LogLevel
from ticketing.errors import DomainError
from ticketing.graphql.document_length import LengthLimitedSchema
from ticketing.graphql.failure_reports import FailureReports, Repeats, fingerprint
from ticketing.outages import UNAVAILABLE_MESSAGE, is_outage
from ticketing.realtime.broker import Broker
from ticketing.realtime.outbox import change

logger = logging.getLogger("ticketing.errors")

INTERNAL_MESSAGE = "Internal server error."
WINDOW_CLOSE_SLACK_SECONDS = 0.5


def is_client_error(error: GraphQLError) -> bool:
    """Raised by the GraphQL layer before any resolver ran (it has no path)."""
    if error.path is not None:
        return False
    # strawberry raises these for an operation type a transport does not carry
    # (a query over the legacy graphql-ws protocol, a mutation over GET), for
    # an empty query, and for a document without the operation asked for (no
    # operation at all, or an unknown operationName); over HTTP they are
    # refused before execution, over WebSocket they arrive here.
    # A variable that cannot be coerced wraps graphql-core's own GraphQLError.
    return error.original_error is None or isinstance(
        error.original_error,
        InvalidOperationTypeError | CannotGetOperationTypeError | MissingQueryError | GraphQLError,
    )


def is_unexpected(error: GraphQLError) -> bool:
    return not is_client_error(error) and not isinstance(error.original_error, DomainError)


class ErrorCodes(MaskErrors):
    """Gives each error its code, and masks the unexpected ones."""

    def __init__(self) -> None:
        super().__init__(error_message=INTERNAL_MESSAGE)

    def _process_result(self, result: object) -> None:
        # strawberry first asks isinstance() of a runtime-checkable Protocol, a
        # slow check that ran for every live event sent (5% of a fan-out's
        # CPU); results without errors, nearly all, need only this read.
        if getattr(result, "errors", None):
            super()._process_result(result)

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        return [self._with_code(error) for error in errors]

    def _with_code(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if isinstance(original, DomainError):
            extensions: dict[str, Any] = original.extensions()
        elif is_client_error(error):
            extensions = {"code": "BAD_USER_INPUT"}
        else:
            masked = self.anonymise_error(error)
            if is_outage(original):
                masked.message = UNAVAILABLE_MESSAGE  # the client may simply retry
            masked.extensions = {"code": "INTERNAL_SERVER_ERROR"}
            # The same reference is in the server log and the activity log, so a
            # user's report can be matched to the traceback.
            reference = _REFERENCES.pop(id(error), None)
            if reference is not None:
                masked.extensions["reference"] = reference
            return masked
        return GraphQLError(
            message=error.message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=None,
            extensions=extensions,
        )


class TicketingSchema(LengthLimitedSchema):
    def __init__(self, *args: Any, error_report_window_seconds: float = 60.0, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.failures = FailureReports(error_report_window_seconds)

    @cached_property
    def results_carry_extensions(self) -> bool:
        """Whether some extension adds `extensions` to results (live frames then differ)."""
        return any(
            type(extension).get_results is not SchemaExtension.get_results
            for extension in self.get_extensions()
        )

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Called with the original errors, before ErrorCodes masks them. Expected
        # errors are the client's business and would only flood the log; so would
        # the same unexpected one, repeated (failure_reports.py).
        for error in errors:
            if not is_unexpected(error):
                continue
            cause = error.original_error or error
            occurrence = self.failures.occurred(fingerprint(cause), time.monotonic())
            _REFERENCES[id(error)] = occurrence.reference
            context = getattr(execution_context, "context", None)
            broker = getattr(getattr(context, "services", None), "broker", None)
            self._report_repeats(occurrence.ended, broker)
            if not occurrence.first:
                continue
            operation = getattr(execution_context, "operation_name", None) or "anonymous"
            path = ".".join(str(p) for p in error.path or ()) or "-"
            logger.error(
                "Unexpected error %s in operation %s at %s",
                occurrence.reference,
                operation,
                path,
                exc_info=cause,
            )
            _record_in_activity_log(
                f"Unexpected server error {occurrence.reference} in operation {operation} "
                f"at {path}.",
                broker,
            )
            self._close_window_later(broker)

    def _close_window_later(self, broker: Broker | None) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # executed without a loop: the next occurrence closes it
            return
        # A little after the window: the loop's clock may run a hair behind time.monotonic().
        delay = self.failures.window_seconds + WINDOW_CLOSE_SLACK_SECONDS
        loop.call_later(delay, self._close_ended_windows, broker)

    def _close_ended_windows(self, broker: Broker | None) -> None:
        self._report_repeats(self.failures.close_ended(time.monotonic()), broker)

    def _report_repeats(self, ended: list[Repeats], broker: Broker | None) -> None:
        window = self.failures.window_seconds
        for repeats in ended:
            logger.error(
                "Unexpected error %s happened %d more times within %gs of its first report",
                repeats.reference,
                repeats.count,
                window,
            )
            _record_in_activity_log(
                f"Unexpected server error {repeats.reference} happened {repeats.count} more "
                f"times in the {window:g} s after it was first recorded.",
                broker,
            )


# Masking runs right after process_errors on the same error objects; entries
# are dropped when read, and the cap only guards against an error never masked.
_REFERENCES: dict[int, str] = {}
_REFERENCES_CAP = 1000
_background_tasks: set[asyncio.Task[None]] = set()


def _record_in_activity_log(message: str, broker: Broker | None) -> None:
    """Store an ERROR entry without holding up the response."""
    if len(_REFERENCES) > _REFERENCES_CAP:
        _REFERENCES.clear()
    if broker is None:
        return  # executed outside a server (tests of the schema alone)
    task = asyncio.get_running_loop().create_task(_store_error_entry(message, broker))
    _background_tasks.add(task)  # keep a reference until it is done
    task.add_done_callback(_background_tasks.discard)


async def _store_error_entry(message: str, broker: Broker) -> None:
    try:
        async with change(broker) as work:
            await activity.record(work, level=LogLevel.ERROR, event="server.error", message=message)
    except Exception:  # the original error is logged already; say why this one failed
        logger.exception("Could not store the activity entry: %s", message)
