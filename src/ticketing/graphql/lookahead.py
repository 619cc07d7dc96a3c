"""What the operation asks for below the current field, to load it before it is resolved.

A resolver that loads the rows its children will need (in as few statements
as the loaders would) lets those children answer without waiting, and
graphql-core then completes the whole subtree on its synchronous path: no
awaitable, task or gather per field. The look-ahead is only ever an
optimisation: a child whose rows were not loaded ahead still loads them itself.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLObjectType,
    GraphQLResolveInfo,
    InlineFragmentNode,
    SelectionSetNode,
    get_argument_values,
    get_named_type,
)
from graphql.execution.values import VariableValues

from ticketing.graphql.context import Info


def _fields_named(
    selection_set: SelectionSetNode | None,
    name: str,
    fragments: dict[str, FragmentDefinitionNode],
    visited: set[str],
) -> Iterator[FieldNode]:
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode):
            if selection.name.value == name:
                yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _fields_named(selection.selection_set, name, fragments, visited)
        elif isinstance(selection, FragmentSpreadNode):
            # Once per level, as graphql-core collects fields: a fragment spread
            # twice in each of a chain of fragments would otherwise be walked
            # 2^n times for a document of a few hundred bytes.
            spread = selection.name.value
            fragment = fragments.get(spread)
            if fragment is not None and spread not in visited:
                visited.add(spread)
                yield from _fields_named(fragment.selection_set, name, fragments, visited)


def _raw(info: Info) -> GraphQLResolveInfo[Any]:
    # strawberry's Info wraps graphql-core's and offers no typed way to it; the
    # field definitions and coerced variables below are only on graphql-core's.
    raw: GraphQLResolveInfo[Any] = info._raw_info
    return raw


def selections_at(info: Info, path: Sequence[str]) -> tuple[GraphQLField | None, list[FieldNode]]:
    """The definition of the field at `path` (GraphQL names) below the current field,
    and every selection of it in the operation.

    Fragments are looked through, and aliases count as separate selections
    (each with its own arguments). `@skip`/`@include` are not evaluated: a
    skipped field is loaded for nothing, never answered.
    """
    raw = _raw(info)
    nodes: list[FieldNode] = list(raw.field_nodes)
    parent = get_named_type(raw.return_type)
    field: GraphQLField | None = None
    for name in path:
        if not isinstance(parent, GraphQLObjectType) or name not in parent.fields:
            return None, []
        field = parent.fields[name]
        visited: set[str] = set()
        found: dict[int, FieldNode] = {}  # each node once, however often it was reached
        for node in nodes:
            for field_node in _fields_named(node.selection_set, name, raw.fragments, visited):
                found.setdefault(id(field_node), field_node)
        nodes = list(found.values())
        parent = get_named_type(field.type)
    return field, nodes


def asks_for(info: Info, path: Sequence[str]) -> bool:
    return bool(selections_at(info, path)[1])


def arguments_at(info: Info, path: Sequence[str]) -> list[dict[str, Any]]:
    """The coerced arguments (defaults and variables filled in, GraphQL names) of
    each selection of the field at `path`; a selection whose arguments do not
    coerce is left out (its field reports the error)."""
    field, nodes = selections_at(info, path)
    if field is None:
        return []
    # strawberry hands resolvers the coerced dict, graphql-core's coercion wants
    # its container (the sources matter only to fragment variables, unused here).
    given: Any = _raw(info).variable_values
    coerced: dict[str, Any] = getattr(given, "coerced", given)
    variables = VariableValues(sources={}, coerced=coerced)
    found: list[dict[str, Any]] = []
    for node in nodes:
        try:
            found.append(get_argument_values(field, node, variables))
        except GraphQLError:
            continue
    return found
