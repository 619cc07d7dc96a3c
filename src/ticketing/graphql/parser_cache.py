"""A parse cache that leaves syntax errors to strawberry's own parsing step.

strawberry's ParserCache parses in `on_parse` and lets a syntax error escape the
extension hooks, so the error leaves without passing through ErrorCodes (no
`extensions.code`). Here a document that fails to parse is left unparsed, and
strawberry reports the error in band as usual.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from graphql.error import GraphQLError
from strawberry.extensions import ParserCache


class InBandParserCache(ParserCache):
    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        with contextlib.suppress(GraphQLError):
            context.graphql_document = self.cached_parse_document(
                context.query, **context.parse_options
            )
        yield
