"""Every field of the schema that takes text checks it before its resolver runs."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import (
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLObjectType,
    GraphQLScalarType,
    get_nullable_type,
)

from ticketing.errors import InvalidInput
from ticketing.graphql.schema import build_schema
from ticketing.graphql.text_inputs import TEXT_SCALARS

SCHEMA = build_schema()._schema
NUL = "x\x00"


def _bad(type_: GraphQLInputType) -> tuple[Any, str] | None:
    """A value of `type_` with NUL in its first text, and the name of that text's input."""
    nullable = get_nullable_type(type_)
    if isinstance(nullable, GraphQLList):
        inner = _bad(nullable.of_type)
        return None if inner is None else ([inner[0]], inner[1])
    if isinstance(nullable, GraphQLInputObjectType):
        for name, field in nullable.fields.items():
            inner = _bad(field.type)
            if inner is not None:
                return {field.out_name or name: inner[0]}, inner[1] or name
        return None
    if isinstance(nullable, GraphQLScalarType) and nullable.name in TEXT_SCALARS:
        return NUL, ""
    return None


def _text_arguments() -> list[tuple[str, str, Any, str]]:
    found = []
    for type_name, named in SCHEMA.type_map.items():
        if not isinstance(named, GraphQLObjectType) or type_name.startswith("__"):
            continue
        for field_name, field in named.fields.items():
            for argument_name, argument in field.args.items():
                bad = _bad(argument.type)
                if bad is not None:
                    value, inner_name = bad
                    found.append(
                        (
                            f"{type_name}.{field_name}",
                            argument_name,
                            value,
                            inner_name or argument_name,
                        )
                    )
    return found


TEXT_ARGUMENTS = _text_arguments()


def test_the_schema_has_text_arguments_to_check() -> None:
    names = {f"{field}({argument})" for field, argument, _, _ in TEXT_ARGUMENTS}
    assert {"Mutation.signUp(input)", "Query.ticket(id)", "Ticket.messages(after)"} <= names
    assert "Subscription.messageAdded(ticketId)" in names


@pytest.mark.parametrize(("field", "argument", "value", "named"), TEXT_ARGUMENTS)
def test_every_text_argument_is_refused_before_its_resolver_runs(
    field: str, argument: str, value: Any, named: str
) -> None:
    type_name, field_name = field.split(".")
    definition = SCHEMA.type_map[type_name].fields[field_name]  # type: ignore[attr-defined]
    resolver = definition.subscribe if type_name == "Subscription" else definition.resolve

    with pytest.raises(InvalidInput) as refused:
        # source and info are never reached: the check comes first
        resolver(None, None, **{argument: value})

    assert refused.value.field == named
