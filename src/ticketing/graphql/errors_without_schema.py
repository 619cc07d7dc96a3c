"""Without introspection, errors must not describe the schema either.

Every error leaves through ErrorCodes (validation and execution, HTTP and
WebSocket alike), so this variant of it, used when introspection is off,
changes the messages of the client's errors there (those of the GraphQL layer
itself: syntax, validation, variable coercion; our domain errors are ours and
name nothing of the schema):

1. graphql-core's hints ("Did you mean 'title'?") are dropped (suggestions.py);
2. the message forms that name the schema are rewritten to name only what the
   document and the variables wrote (schema_free_messages.py).

Codes, locations and paths are kept. With introspection on, ErrorCodes itself
is used and messages stay as graphql-core wrote them.
"""

from __future__ import annotations

from graphql.error import GraphQLError

from ticketing.graphql.errors import ErrorCodes, is_client_error
from ticketing.graphql.schema_free_messages import schema_free
from ticketing.graphql.suggestions import without_suggestion


class ErrorCodesWithoutSchema(ErrorCodes):
    def _with_code(self, error: GraphQLError) -> GraphQLError:
        coded = super()._with_code(error)  # always a new error: changing it is safe
        coded.message = without_suggestion(coded.message)
        if is_client_error(error):
            coded.message = schema_free(coded.message)
        return coded
