"""A limit on a document's length in characters, checked before it is parsed.

The token limit does not bound parsing: whitespace, commas, comments and the
insides of string literals are no tokens, and graphql-core's lexer reads them a
character at a time in Python, so a 1 MiB body of 2,000 tokens costs 50-250 ms
to parse (string escapes, block strings and comments the most). A long value
belongs in a variable, which JSON decodes in C.

The check runs in the schema's `execute` and `stream` (and so `subscribe`),
which every transport calls, HTTP and both WebSocket protocols, before any
extension runs: a refused document is never parsed. Its error carries its
code itself, since no extension (ErrorCodes included) sees it.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable
from typing import Any

from graphql import GraphQLError
from strawberry import Schema
from strawberry.schema.schema import StreamResult
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType

DEFAULT_MAX_LENGTH = 16_384


def length_error(query: str | None, max_length: int) -> GraphQLError | None:
    """The refusal of a document over `max_length` characters; None within it."""
    if query is None or len(query) <= max_length:
        return None
    return GraphQLError(
        f"The document is {len(query)} characters long; at most {max_length} are allowed. "
        "Send long values (a ticket's description, a message) as variables.",
        extensions={"code": "BAD_USER_INPUT"},
    )


class LengthLimitedSchema(Schema):
    """A schema that refuses documents longer than `max_query_length` before parsing them."""

    max_query_length = DEFAULT_MAX_LENGTH

    async def execute(  # strawberry's signature
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        refusal = length_error(query, self.max_query_length)
        if refusal is not None:
            return ExecutionResult(data=None, errors=[refusal])
        return await super().execute(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            allowed_operation_types,
            operation_extensions,
        )

    async def stream(  # strawberry's signature
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        operation_extensions: dict[str, Any] | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
    ) -> StreamResult:
        refusal = length_error(query, self.max_query_length)
        if refusal is not None:
            return _refused(refusal)
        return await super().stream(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            operation_extensions,
            allowed_operation_types,
        )


async def _refused(error: GraphQLError) -> AsyncGenerator[PreExecutionError, None]:
    # What strawberry's own stream yields for a document that does not parse.
    yield PreExecutionError(data=None, errors=[error])
