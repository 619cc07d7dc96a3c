"""What an operation may cost before it runs: lists count by their `first` argument.

Every field costs 1. A field that takes `first` (the connections `tickets`,
`messages`, `logs`) returns up to `first` items, so what is selected inside it
is paid `first` times over, and nested lists multiply:
`tickets(first: 100) { edges { node { messages(first: 100) { … } } } }` costs
about 100 * 100 * the message selection.

`first` is the literal in the document, else the value of its variable (or the
variable's default), else the argument's default in the schema (`tickets` 20,
`messages` 50, `logs` 50); `null` also means the default, as in the API. A
fragment costs what its fields cost wherever it is spread (computed once per
fragment, so spreading fragments into each other stays cheap to compute).

The document must be valid: the cost is computed after validation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInt,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SchemaMetaFieldDef,
    SelectionSetNode,
    TypeMetaFieldDef,
    TypeNameMetaFieldDef,
    VariableNode,
    get_named_type,
    get_operation_ast,
    value_from_ast,
)

PAGE_SIZE_ARGUMENT = "first"


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> int:
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return _Costing(schema, fragments, _variable_values(operation, variables)).selection_set(
        operation.selection_set, root
    )


def _variable_values(
    operation: OperationDefinitionNode, provided: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The values sent, and the operation's defaults for those not sent."""
    values = dict(provided or {})
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        if name not in values and definition.default_value is not None:
            values[name] = value_from_ast(definition.default_value, GraphQLInt)
    return values


class _Costing:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
    ) -> None:
        self._schema = schema
        self._fragments = fragments
        self._variables = variables
        self._fragment_costs: dict[str, int] = {}

    def selection_set(self, node: SelectionSetNode | None, parent: GraphQLNamedType) -> int:
        total = 0
        for selection in node.selections if node is not None else ():
            if isinstance(selection, FieldNode):
                total += self._field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self._schema.get_type(condition.name.value) if condition else parent
                total += self.selection_set(selection.selection_set, inner or parent)
            elif isinstance(selection, FragmentSpreadNode):
                total += self._fragment(selection.name.value)
        return total

    def _field(self, node: FieldNode, parent: GraphQLNamedType) -> int:
        definition = self._definition(node.name.value, parent)
        if definition is None or node.selection_set is None:
            return 1
        inner = self.selection_set(node.selection_set, get_named_type(definition.type))
        return 1 + self._page_size(node, definition) * inner

    def _fragment(self, name: str) -> int:
        if name not in self._fragment_costs:
            fragment = self._fragments[name]
            condition = self._schema.get_type(fragment.type_condition.name.value)
            assert condition is not None  # the document is valid
            self._fragment_costs[name] = self.selection_set(fragment.selection_set, condition)
        return self._fragment_costs[name]

    def _definition(self, name: str, parent: GraphQLNamedType) -> GraphQLField | None:
        if name == "__typename":
            return TypeNameMetaFieldDef
        if parent is self._schema.query_type and name in ("__schema", "__type"):
            return SchemaMetaFieldDef if name == "__schema" else TypeMetaFieldDef
        fields: dict[str, GraphQLField] | None = getattr(parent, "fields", None)
        return None if fields is None else fields.get(name)

    def _page_size(self, node: FieldNode, definition: GraphQLField) -> int:
        argument = definition.args.get(PAGE_SIZE_ARGUMENT)
        if argument is None:
            return 1
        value: Any = None
        for given in node.arguments or ():
            if given.name.value != PAGE_SIZE_ARGUMENT:
                continue
            if isinstance(given.value, VariableNode):
                value = self._variables.get(given.value.name.value)
            else:
                value = value_from_ast(given.value, GraphQLInt)
        if not isinstance(value, int) or isinstance(value, bool):
            value = argument.default_value  # not given, null, or not a number (refused later)
        return max(value, 0) if isinstance(value, int) else 1
