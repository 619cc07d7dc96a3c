"""Without introspection, errors must not describe the schema either.

graphql-core ends many validation and variable errors with hints such as
"Did you mean 'title'?" (unknown fields, arguments, types, enum values and input
fields), which would let a client map the schema one guess at a time. Every
error leaves through ErrorCodes, so this variant of it drops the hint there:
for validation and execution, over HTTP and WebSocket alike.
"""

from __future__ import annotations

import re

from graphql.error import GraphQLError

from ticketing.graphql.errors import ErrorCodes

# graphql-core's did_you_mean(): " Did you mean 'a', 'b', or 'c'?" (or "the enum value 'a'").
SUGGESTION = re.compile(r" Did you mean [^?]*\?")


def without_suggestion(message: str) -> str:
    return SUGGESTION.sub("", message)


class ErrorCodesWithoutSuggestions(ErrorCodes):
    def _with_code(self, error: GraphQLError) -> GraphQLError:
        coded = super()._with_code(error)  # always a new error: changing it is safe
        coded.message = without_suggestion(coded.message)
        return coded
