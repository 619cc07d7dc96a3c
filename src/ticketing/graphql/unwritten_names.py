"""The last check of a message without introspection: no schema name the client did not write.

`schema_free_messages.py` rewrites every message form known to name the
schema. A form it does not know (a new rule, a message reworded by an upgrade)
would pass unchanged, so this check looks at every name between single quotes
in the message (where graphql-core and strawberry put names): when one is a
name of the schema (a type, field, argument, input field, enum value or
directive) that the client wrote neither in the document nor in the variables,
the message is replaced by a generic one. It fails closed: a reworded message
loses its detail, never leaks.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterator, Mapping
from typing import Any

from graphql import GraphQLSchema

GENERIC_MESSAGE = "The operation is not valid."
NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")
QUOTED = re.compile(r"'([^']*)'")

_SCHEMA_NAMES: weakref.WeakKeyDictionary[GraphQLSchema, frozenset[str]] = (
    weakref.WeakKeyDictionary()
)


def schema_names(schema: GraphQLSchema) -> frozenset[str]:
    """Every name the schema defines (gathered once per schema)."""
    names = _SCHEMA_NAMES.get(schema)
    if names is None:
        names = _SCHEMA_NAMES[schema] = frozenset(_names_of(schema))
    return names


def _names_of(schema: GraphQLSchema) -> Iterator[str]:
    for type_name, type_ in schema.type_map.items():
        yield type_name
        yield from getattr(type_, "values", None) or ()  # enum values
        for field_name, field in (getattr(type_, "fields", None) or {}).items():
            yield field_name
            yield from getattr(field, "args", None) or ()
    for directive in schema.directives:
        yield directive.name
        yield from directive.args


def written_names(query: str | None, variables: Any, operation_name: str | None) -> frozenset[str]:
    """Every name in what the client sent: the document, the variables, the operation name."""
    texts = [query or "", operation_name or "", *_texts_in(variables)]
    return frozenset(name for text in texts for name in NAME.findall(text))


def _texts_in(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield str(key)
            yield from _texts_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _texts_in(item)


def unwritten_schema_names(
    message: str, schema: frozenset[str], written: frozenset[str]
) -> set[str]:
    """The schema's names quoted in `message` that the client did not write."""
    quoted = (name for text in QUOTED.findall(message) for name in NAME.findall(text))
    return {name for name in quoted if name in schema and name not in written}
