"""Error mapping in one place: every error leaves with the contract's `extensions.code`.

Domain errors keep their message and code. Errors of the GraphQL layer itself
(syntax, validation, variable coercion) are the client's: BAD_USER_INPUT.
Anything else is a bug: the client sees a generic INTERNAL_SERVER_ERROR, and
the full traceback goes to the server log.
"""

from __future__ import annotations

import logging
from typing import Any

from graphql.error import GraphQLError
from strawberry import Schema
from strawberry.extensions import MaskErrors
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionContext

from ticketing.errors import DomainError

logger = logging.getLogger("ticketing.errors")

INTERNAL_MESSAGE = "Internal server error."


def is_client_error(error: GraphQLError) -> bool:
    """Raised by the GraphQL layer before any resolver ran (it has no path)."""
    if error.path is not None:
        return False
    # strawberry raises this for an operation type a transport does not carry
    # (a query over the legacy graphql-ws protocol, a mutation over GET).
    return error.original_error is None or isinstance(
        error.original_error, InvalidOperationTypeError
    )


def is_unexpected(error: GraphQLError) -> bool:
    return not is_client_error(error) and not isinstance(error.original_error, DomainError)


class ErrorCodes(MaskErrors):
    """Gives each error its code, and masks the unexpected ones."""

    def __init__(self) -> None:
        super().__init__(error_message=INTERNAL_MESSAGE)

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
            masked.extensions = {"code": "INTERNAL_SERVER_ERROR"}
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


class TicketingSchema(Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Called with the original errors, before ErrorCodes masks them. Expected
        # errors are the client's business and would only flood the log.
        for error in errors:
            if is_unexpected(error):
                logger.error(
                    "Unexpected error in %s at %s",
                    getattr(execution_context, "operation_name", None) or "anonymous operation",
                    ".".join(str(p) for p in error.path or ()) or "-",
                    exc_info=error.original_error or error,
                )
