"""The schema, assembled in one place from each domain's queries and mutations."""

from __future__ import annotations

import strawberry
from strawberry.extensions import ValidationCache
from strawberry.tools import merge_types

from ticketing.graphql.activity.queries import ActivityQuery
from ticketing.graphql.auth.mutations import AuthMutation
from ticketing.graphql.auth.queries import AuthQuery
from ticketing.graphql.configuration.resolvers import ConfigurationMutation, ConfigurationQuery
from ticketing.graphql.errors import ErrorCodes, TicketingSchema
from ticketing.graphql.messages.mutations import MessageMutation
from ticketing.graphql.parser_cache import InBandParserCache
from ticketing.graphql.tickets.mutations import TicketMutation
from ticketing.graphql.tickets.queries import TicketQuery

Query = merge_types("Query", (AuthQuery, TicketQuery, ConfigurationQuery, ActivityQuery))
Mutation = merge_types(
    "Mutation", (AuthMutation, TicketMutation, MessageMutation, ConfigurationMutation)
)


def build_schema() -> strawberry.Schema:
    return TicketingSchema(
        query=Query,
        mutation=Mutation,
        extensions=[
            ErrorCodes,
            lambda: InBandParserCache(maxsize=512),
            lambda: ValidationCache(maxsize=512),
        ],
    )


def export_schema() -> str:
    """The SDL that `schema.graphql` holds."""
    return build_schema().as_str() + "\n"
