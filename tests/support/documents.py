"""Hypothesis strategies for small GraphQL documents whose fields collide often.

Field merging is decided where fields share a response name, so the documents
draw from few names: a handful of aliases, the parent's own fields, an unknown
field, `__typename`; few argument lists (equal ones written differently too);
inline fragments on any type (the wrong ones included) and fragments spreading
later fragments only (no cycles). They need not be valid: a rule is run on
every document, valid or not.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLNamedType,
    GraphQLSchema,
    build_schema,
    get_named_type,
    is_interface_type,
    is_leaf_type,
    is_object_type,
)
from hypothesis import strategies as st

# Interfaces and unions, which the ticketing schema has none of: fields of an
# abstract parent merge with those of every object type.
ABSTRACT_SDL = """
interface Node { id: ID! name: String }
interface Named { name: String }
type A implements Node & Named {
  id: ID! name: String x(k: Int, j: Int): Int y: [Int] z: Int! a: A b: B node: Node
  nodes(k: Int): [Node!] ab: AB
}
type B implements Node & Named {
  id: ID! name: String x(k: Int, j: Int): String y: [Int!] z: Int! a: A b: B node: Node
  nodes(k: Int): [Node] ab: AB
}
type C implements Named { name: String x(k: Int, j: Int): Int c: C ab: AB }
union AB = A | B
type Query { node(k: Int): Node a(k: Int): A b: B c: C ab: AB named: Named nodes: [Node] }
"""
ABSTRACT_SCHEMA = build_schema(ABSTRACT_SDL)

ALIASES = ("p", "q")
UNKNOWN_FIELDS = ("unknown", "__typename")
# Equal argument lists written differently, and different ones.
ARGUMENTS = (
    "",
    "(k: 1)",
    "(k: 2)",
    "(k: $v)",
    "(k: $w)",
    "(j: 1, k: 1)",
    "(k: 1, j: 1)",
    '(k: "1")',
    '(k: """1""")',
    "(k: {a: 1, b: [2]})",
    "(k: {b: [2], a: 1})",
    "(k: [1.0])",
    "(k: [1])",
    "(k: null)",
    "(k: ONE)",
)
DIRECTIVES = ("",) * 12 + (" @stream", " @include(if: true)")


def documents(schema: GraphQLSchema, *, fragments: int = 3, depth: int = 2) -> Any:
    """Documents of one to two operations and up to `fragments` fragments."""
    return _document(schema, fragments, depth)


@st.composite
def _document(draw: Any, schema: GraphQLSchema, fragments: int, depth: int) -> str:
    type_names = [name for name, named in schema.type_map.items() if not is_leaf_type(named)]
    count = draw(st.integers(0, fragments))
    parts = []
    for index in range(count):
        condition = draw(st.sampled_from([*type_names, "Nope"]))
        later = [f"F{j}" for j in range(index + 1, count)]
        body = draw(_selection_set(schema, schema.get_type(condition), depth, later, type_names))
        parts.append(f"fragment F{index} on {condition} {body}")
    every = [f"F{j}" for j in range(count)]
    for index in range(draw(st.integers(1, 2))):
        body = draw(_selection_set(schema, schema.query_type, depth, every, type_names))
        parts.append(f"query Q{index}($v: Int, $w: Int) {body}")
    draw(st.randoms()).shuffle(parts)
    return "\n".join(parts)


@st.composite
def _selection_set(
    draw: Any,
    schema: GraphQLSchema,
    parent: GraphQLNamedType | None,
    depth: int,
    spreads: list[str],
    type_names: list[str],
) -> str:
    selections = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(("field",) * 4 + ("inline", "spread")))
        # Inside introspection, only type conditions that PossibleFragmentSpreadsRule
        # allows: graphql-core's rule answers there as if the parent were unknown
        # or not, depending on the pair (see ticketing.graphql.field_merging).
        introspection = parent is not None and parent.name.startswith("__")
        if kind == "spread" and spreads and not introspection:
            selections.append("..." + draw(st.sampled_from(spreads)))
        elif kind == "inline":
            conditions = [parent.name] if introspection else [*type_names, "Nope"]  # type: ignore[union-attr]
            condition = draw(st.sampled_from([None, *conditions]))
            inner = parent if condition is None else schema.get_type(condition)
            body = draw(_selection_set(schema, inner, depth, spreads, type_names))
            selections.append(f"... on {condition} {body}" if condition else f"... {body}")
        else:
            selections.append(draw(_field(schema, parent, depth, spreads, type_names)))
    return "{ " + " ".join(selections) + " }"


@st.composite
def _field(
    draw: Any,
    schema: GraphQLSchema,
    parent: GraphQLNamedType | None,
    depth: int,
    spreads: list[str],
    type_names: list[str],
) -> str:
    own = list(parent.fields) if is_object_type(parent) or is_interface_type(parent) else []  # type: ignore[union-attr]
    meta = ["__schema", "__type"] if parent is schema.query_type else []
    name = draw(st.sampled_from([*own, *meta, *UNKNOWN_FIELDS]))
    alias = draw(st.sampled_from((None,) * 4 + ALIASES))
    text = (f"{alias}: " if alias else "") + name
    # No arguments mostly, so that not nearly every document is refused.
    arguments = draw(st.sampled_from(ARGUMENTS)) if draw(st.integers(0, 3)) == 0 else ""
    text += arguments + draw(st.sampled_from(DIRECTIVES))
    definition = parent.fields.get(name) if own else None  # type: ignore[union-attr]
    child = get_named_type(definition.type) if definition is not None else None
    if name in meta:  # so that introspection fields are drawn below them
        child = schema.get_type("__Schema" if name == "__schema" else "__Type")
    composite = child is not None and not is_leaf_type(child)
    # Mostly as the schema wants it; sometimes a leaf with a selection or a
    # composite field without one.
    wants_selection = composite if draw(st.integers(0, 5)) else not composite
    if wants_selection and depth > 0:
        text += " " + draw(_selection_set(schema, child, depth - 1, spreads, type_names))
    return text
