"""What two fields' arguments are compared by, as graphql-core 3.3 compares them, made hashable.

graphql-core's OverlappingFieldsCanBeMergedRule compares arguments by their source
form: a value's kind and literal, variables by name, object fields in name order
(so `{a: 1, b: 2}` equals `{b: 2, a: 1}`), a block string unlike a string of the
same value, `1.0` unlike `1`. The same arguments in any order are the same.
A key here is equal exactly when graphql-core finds the arguments the same, as
long as no argument name is repeated (a document that UniqueArgumentNamesRule
refuses anyway).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from graphql import (
    ArgumentNode,
    BooleanValueNode,
    EnumValueNode,
    FloatValueNode,
    IntValueNode,
    ListValueNode,
    NullValueNode,
    ObjectValueNode,
    StringValueNode,
    ValueNode,
    VariableNode,
)

ArgumentsKey = tuple[tuple[str, Hashable], ...] | None


def arguments_key(arguments: Sequence[ArgumentNode] | None) -> ArgumentsKey:
    """None for no arguments; else each argument's name and value key, in name order."""
    if not arguments:
        return None
    return tuple(sorted(((a.name.value, value_key(a.value)) for a in arguments), key=_by_name))


def value_key(node: ValueNode) -> Hashable:
    if isinstance(node, VariableNode):
        return ("Variable", node.name.value)
    if isinstance(node, ObjectValueNode):
        fields = sorted(node.fields, key=lambda field: field.name.value)  # stable, as there
        return ("Object", tuple((f.name.value, value_key(f.value)) for f in fields))
    if isinstance(node, ListValueNode):
        return ("List", tuple(value_key(value) for value in node.values))
    if isinstance(node, StringValueNode):
        return ("String", node.value, node.block is True)
    if isinstance(node, NullValueNode):
        return ("Null",)
    if isinstance(node, BooleanValueNode | EnumValueNode | FloatValueNode | IntValueNode):
        return (type(node).__name__, node.value)
    raise TypeError(f"Unexpected value node: {node!r}")


def _by_name(item: tuple[str, Hashable]) -> str:
    return item[0]
