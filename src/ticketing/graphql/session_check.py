"""Every operation checks its session afresh, also on a long-lived socket."""

from __future__ import annotations

from collections.abc import Iterator

from strawberry.extensions import SchemaExtension

from ticketing.graphql.context import Context


class SessionPerOperation(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        if isinstance(context, Context):
            # A socket's context outlives sessions: a log-out since the last
            # operation must refuse this one.
            context.forget_principal()
        yield
