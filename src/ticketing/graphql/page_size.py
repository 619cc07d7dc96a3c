"""How many items a field may return, read from the argument values it will run with.

A page size is any `Int` argument or input field named `first`, at the top of a
field's arguments or anywhere inside its input objects and lists: `tickets(first:)`
today, and a `first` inside a filter input tomorrow counts the same, without this
module knowing the field. A field with several page sizes counts the largest.

The values are the ones graphql-core coerced (see `cost.py`), so nothing here
reads the document: `null` means the position's default, as in the API.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputType,
    GraphQLInt,
    get_nullable_type,
    is_input_object_type,
    is_list_type,
)
from graphql.utilities.coerce_input_value import coerce_default_value

from ticketing.pagination import MAX_PAGE_SIZE

PAGE_SIZE_NAME = "first"

Position = GraphQLArgument | GraphQLInputField


def is_page_size(name: str, position: Position) -> bool:
    return name == PAGE_SIZE_NAME and get_nullable_type(position.type) is GraphQLInt


def page_size(definition: GraphQLField, arguments: Mapping[str, Any]) -> int:
    """The largest page size among the field's coerced `arguments`; 1 for a field without one."""
    sizes = [
        size
        for name, argument in definition.args.items()
        if name in arguments
        for size in _sizes(name, argument, argument.type, arguments[name])
    ]
    return max(sizes, default=1)


def _sizes(name: str, position: Position, type_: GraphQLInputType, value: Any) -> Iterator[int]:
    nullable = get_nullable_type(type_)
    if is_list_type(nullable):
        for item in value if isinstance(value, list) else ():
            yield from _sizes(name, position, nullable.of_type, item)
    elif is_input_object_type(nullable):
        for field_name, field in nullable.fields.items():
            # graphql-core's coercion fills in every input field that has a default
            if isinstance(value, Mapping) and field_name in value:
                yield from _sizes(field_name, field, field.type, value[field_name])
    elif is_page_size(name, position):
        yield _size(value, position)


def _size(value: Any, position: Position) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return max(value, 0)
    default = coerce_default_value(position)  # null, as in the API, means the default
    if isinstance(default, int) and not isinstance(default, bool):
        return max(default, 0)
    # A page size without a default: the service bounds it (tests/graphql check
    # that every page size of our schema has one), so count the most it allows.
    return MAX_PAGE_SIZE
