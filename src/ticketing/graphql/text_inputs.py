"""Every text argument of the API is checked once, where it enters (ticketing/text.py).

Each field that takes text (a `String` or `ID`, directly or inside input
objects and lists) gets its resolver wrapped so that, before it runs, every
string among its coerced arguments is checked: invalid Unicode and control
characters are BAD_USER_INPUT naming the input (`title`, `body`, `ticketId`),
and nothing runs. One place, so that a new input is covered without a line of
its own. Subscriptions are checked once when they start, not on every event.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    default_field_resolver,
    get_named_type,
    get_nullable_type,
)

from ticketing.text import check_text

# Inputs whose text may span lines and hold tabs: a ticket's description and a
# message's body. Every other text is one line.
MULTILINE_INPUTS = frozenset({"description", "body"})
TEXT_SCALARS = frozenset({"String", "ID"})

Resolver = Callable[..., Any]


def guard_text_arguments(schema: GraphQLSchema) -> None:
    """Wrap the resolvers of the fields that take text, in place."""
    subscription = schema.subscription_type
    for named in schema.type_map.values():
        if not isinstance(named, GraphQLObjectType) or named.name.startswith("__"):
            continue
        for field in named.fields.values():
            if not any(_takes_text(argument.type, set()) for argument in field.args.values()):
                continue
            if named is subscription:
                # Its `resolve` runs for every event, with the arguments checked at the start.
                assert field.subscribe is not None
                field.subscribe = _checked(field.subscribe, field.args)
            else:
                field.resolve = _checked(field.resolve or default_field_resolver, field.args)


def check_arguments(arguments: Mapping[str, GraphQLArgument], values: Mapping[str, Any]) -> None:
    """BAD_USER_INPUT for the first text among `values` that is not acceptable."""
    for name, value in values.items():
        argument = arguments.get(name)
        if argument is not None:
            _check(name, argument.type, value)


def _checked(resolver: Resolver, arguments: Mapping[str, GraphQLArgument]) -> Resolver:
    def checked(source: Any, info: Any, **values: Any) -> Any:
        check_arguments(arguments, values)
        return resolver(source, info, **values)

    return checked


def _check(name: str, type_: GraphQLInputType, value: Any) -> None:
    if value is None:
        return
    nullable = get_nullable_type(type_)
    if isinstance(nullable, GraphQLList):
        for item in value:
            _check(name, nullable.of_type, item)
    elif isinstance(nullable, GraphQLInputObjectType):
        for field_name, field in nullable.fields.items():
            key = field.out_name or field_name
            if key in value:
                _check(field_name, field.type, value[key])
    elif isinstance(value, str):
        check_text(name, value, multiline=name in MULTILINE_INPUTS)


def _takes_text(type_: GraphQLInputType, seen: set[str]) -> bool:
    named: GraphQLNamedType = get_named_type(type_)
    if isinstance(named, GraphQLScalarType):
        return named.name in TEXT_SCALARS
    if isinstance(named, GraphQLInputObjectType) and named.name not in seen:
        seen.add(named.name)
        return any(_takes_text(field.type, seen) for field in named.fields.values())
    return False
