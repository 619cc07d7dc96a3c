"""What an operation may cost before it runs: lists count by their page size.

Every field costs 1. A field with a page size (`first`: the connections
`tickets`, `messages`, `logs`; see `page_size.py`) returns up to that many
items, so what is selected inside it is paid that many times over, and nested
lists multiply: `tickets(first: 100) { edges { node { messages(first: 100) { … } } } }`
costs about 100 * 100 * the message selection.

The page size is the value the field will run with, however the client spelled
it: the operation's variables are coerced by graphql-core's own
`get_variable_values` and each field's arguments by its `get_argument_values`,
exactly as the executor does. So `first: $f` with `{"f": 100.0}` (or `1e2`)
costs 100 because it runs as 100; a variable's default, the schema's default
(`tickets` 20, `messages` 50, `logs` 50) and `null` (the default, as in the
API) count as they run too. Variables that do not coerce cost nothing: the
executor refuses the whole operation before any resolver runs, with its own
error. A field whose arguments do not coerce costs 1: the executor reports it
and resolves nothing below it.

A fragment costs what its fields cost wherever it is spread (computed once per
fragment, so spreading fragments into each other stays cheap to compute).
`@skip`/`@include` are not evaluated: a skipped field is counted, never run.
Fragment arguments (graphql-core's experimental syntax) are not parsed here.

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
    GraphQLError,
    GraphQLField,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    SchemaMetaFieldDef,
    SelectionSetNode,
    TypeMetaFieldDef,
    TypeNameMetaFieldDef,
    get_argument_values,
    get_named_type,
    get_operation_ast,
)
from graphql.execution.values import VariableValues, get_variable_values

from ticketing.graphql.page_size import page_size


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> int:
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0  # the executor refuses it: nothing runs
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    if variables is not None and not isinstance(variables, Mapping):
        return 0  # not variables at all: the executor cannot run the operation either
    # The executor's own coercion, so that each variable counts as the value it runs as.
    coerced = get_variable_values(
        schema, operation.variable_definitions or (), dict(variables or {})
    )
    if isinstance(coerced, list):
        return 0  # the executor refuses these variables before any resolver runs
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return _Costing(schema, fragments, coerced).selection_set(operation.selection_set, root)


class _Costing:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: VariableValues,
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
        try:
            # What the executor hands the resolver (variables and defaults filled in).
            arguments = get_argument_values(definition, node, self._variables)
        except GraphQLError:
            return 1  # the executor reports this field's error and runs nothing below it
        inner = self.selection_set(node.selection_set, get_named_type(definition.type))
        return 1 + page_size(definition, arguments) * inner

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
