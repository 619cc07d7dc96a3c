"""The schema, assembled in one place from each domain's queries and mutations."""

from __future__ import annotations

from collections.abc import Callable

import strawberry
from strawberry.extensions import DisableIntrospection, SchemaExtension
from strawberry.tools import merge_types

from ticketing.graphql.activity.queries import ActivityQuery
from ticketing.graphql.activity.subscriptions import ActivitySubscription
from ticketing.graphql.auth.mutations import AuthMutation
from ticketing.graphql.auth.queries import AuthQuery
from ticketing.graphql.configuration.resolvers import ConfigurationMutation, ConfigurationQuery
from ticketing.graphql.configuration.subscriptions import ConfigurationSubscription
from ticketing.graphql.errors import ErrorCodes, TicketingSchema
from ticketing.graphql.errors_without_schema import ErrorCodesWithoutSchema
from ticketing.graphql.limits import OperationLimits, limit_extensions
from ticketing.graphql.messages.mutations import MessageMutation
from ticketing.graphql.messages.subscriptions import MessageSubscription
from ticketing.graphql.shared_execution import SharedEventExecutor
from ticketing.graphql.sql_count import SqlStatementCount, install_counter
from ticketing.graphql.text_inputs import guard_text_arguments
from ticketing.graphql.tickets.mutations import TicketMutation
from ticketing.graphql.tickets.queries import TicketQuery
from ticketing.graphql.tickets.subscriptions import TicketSubscription

Query = merge_types("Query", (AuthQuery, TicketQuery, ConfigurationQuery, ActivityQuery))
Mutation = merge_types(
    "Mutation", (AuthMutation, TicketMutation, MessageMutation, ConfigurationMutation)
)
Subscription = merge_types(
    "Subscription",
    (
        TicketSubscription,
        MessageSubscription,
        ConfigurationSubscription,
        ActivitySubscription,
    ),
)


def build_schema(
    *,
    count_sql_statements: bool = False,
    limits: OperationLimits | None = None,
    introspection: bool = True,
    error_report_window_seconds: float = 60.0,
) -> strawberry.Schema:
    limits = limits or OperationLimits()
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
        # Without introspection, error messages stop naming the schema as well.
        ErrorCodes if introspection else ErrorCodesWithoutSchema,
        # parsing and validation (both cached) included
        *limit_extensions(limits),
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    if count_sql_statements:
        install_counter()
        extensions.append(SqlStatementCount)
    schema = TicketingSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        # A live event is executed once per audience, not per subscriber.
        execution_context_class=SharedEventExecutor,
        error_report_window_seconds=error_report_window_seconds,
    )
    schema.max_query_length = limits.max_length  # checked before any extension runs
    guard_text_arguments(schema._schema)
    return schema


def export_schema() -> str:
    """The SDL that `schema.graphql` holds."""
    return build_schema().as_str() + "\n"
