"""A parse cache with a token limit, that leaves syntax errors to strawberry's own parsing.

strawberry's ParserCache parses in `on_parse` and lets a syntax error escape the
extension hooks, so the error leaves without passing through ErrorCodes (no
`extensions.code`). Here a document that fails to parse is left unparsed, and
strawberry reports the error in band as usual.

graphql-core's parser stops past `max_tokens` (both here and in strawberry's
own step): what strawberry's MaxTokensLimiter does, without an extension of
its own whose hook each subscription would hold suspended for its lifetime.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from graphql.error import GraphQLError
from strawberry.extensions import ParserCache


class InBandParserCache(ParserCache):
    def __init__(self, maxsize: int | None = None, max_tokens: int | None = None) -> None:
        super().__init__(maxsize=maxsize)
        self._max_tokens = max_tokens

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if self._max_tokens is not None:
            context.parse_options["max_tokens"] = self._max_tokens
        with contextlib.suppress(GraphQLError):
            context.graphql_document = self.cached_parse_document(
                context.query, **context.parse_options
            )
        yield
