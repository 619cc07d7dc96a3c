"""Without introspection, errors must not describe the schema either.

Every error leaves through ErrorCodes (validation and execution, HTTP and
WebSocket alike), so this variant of it, used when introspection is off,
changes the messages of the client's errors there (those of the GraphQL layer
itself: syntax, validation, variable coercion; our domain errors are ours and
name nothing of the schema):

1. graphql-core's hints ("Did you mean 'title'?") are dropped (suggestions.py);
2. the message forms that name the schema are rewritten to name only what the
   document and the variables wrote (schema_free_messages.py);
3. a message that still quotes a schema name the client did not write (a form
   step 2 does not know) is replaced by a generic one (unwritten_names.py).

Codes, locations and paths are kept. With introspection on, ErrorCodes itself
is used and messages stay as graphql-core wrote them.
"""

from __future__ import annotations

from graphql.error import GraphQLError

from ticketing.graphql.errors import ErrorCodes, is_client_error
from ticketing.graphql.schema_free_messages import schema_free
from ticketing.graphql.suggestions import without_suggestion
from ticketing.graphql.unwritten_names import (
    GENERIC_MESSAGE,
    schema_names,
    unwritten_schema_names,
    written_names,
)


class ErrorCodesWithoutSchema(ErrorCodes):
    def __init__(self) -> None:
        super().__init__()
        self._written: frozenset[str] | None = None  # gathered once per result, if needed

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        self._written = None  # a subscription's context changes with its events' errors
        return super()._process_errors(errors)

    def _with_code(self, error: GraphQLError) -> GraphQLError:
        coded = super()._with_code(error)  # always a new error: changing it is safe
        coded.message = without_suggestion(coded.message)
        if is_client_error(error):
            coded.message = self._without_schema(schema_free(coded.message))
        return coded

    def _without_schema(self, message: str) -> str:
        context = self.execution_context
        if self._written is None:
            self._written = written_names(context.query, context.variables, context.operation_name)
        names = schema_names(context.schema._schema)
        return GENERIC_MESSAGE if unwritten_schema_names(message, names, self._written) else message
