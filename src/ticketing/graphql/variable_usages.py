"""The three rules about variables, checked from one walk of the document.

graphql-core's NoUndefinedVariablesRule, NoUnusedVariablesRule and
VariablesInAllowedPositionRule need every variable's usages with the input
type at each, for an operation and the fragments it spreads. graphql-core
finds them with a second walk of each operation and fragment, with type
information, after the walk that runs every rule: about a third of the
validation of a large document, whether it uses variables or not.

`VariableUsagesRule` replaces the three. It records each usage (its input
type, parent input type and default value, read from the walk that runs
anyway) and each fragment spread, under the operation or fragment it is in;
when the document ends it checks every operation against the usages of its
own and of the fragments it reaches, each fragment's usages gathered once.
The checks and their messages are graphql-core's (3.3, whose
`allowed_variable_usage` this calls); only the order of the errors differs.
Fragment arguments, an experimental syntax, do not occur: our parser does not
take them. A property test compares both on generated documents
(tests/graphql/test_variable_usages.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from graphql import (
    ArgumentNode,
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLError,
    GraphQLInputField,
    GraphQLInputType,
    ObjectFieldNode,
    OperationDefinitionNode,
    Undefined,
    VariableDefinitionNode,
    VariableNode,
    get_named_type,
    is_input_object_type,
    is_nullable_type,
    type_from_ast,
)
from graphql.language import VisitorAction
from graphql.validation import (
    ASTValidationRule,
    NoUndefinedVariablesRule,
    NoUnusedVariablesRule,
    ValidationRule,
    VariablesInAllowedPositionRule,
)
from graphql.validation.rules.variables_in_allowed_position import allowed_variable_usage

REPLACED_RULES: frozenset[type[ASTValidationRule]] = frozenset(
    {NoUndefinedVariablesRule, NoUnusedVariablesRule, VariablesInAllowedPositionRule}
)
Definition = OperationDefinitionNode | FragmentDefinitionNode


class Usage(NamedTuple):
    node: VariableNode
    type: GraphQLInputType | None
    parent_type: GraphQLInputType | None
    default_value: Any


class VariableUsagesRule(ValidationRule):
    """All variable uses defined, all variables used, and every use in an allowed position."""

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self._definition: Definition | None = None
        self._operations: list[OperationDefinitionNode] = []
        self._usages: dict[str, list[Usage]] = {}  # by fragment name
        self._spreads: dict[str, list[str]] = {}  # by fragment name
        self._operation_usages: list[list[Usage]] = []
        self._operation_spreads: list[list[str]] = []

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        self._definition = node
        self._operations.append(node)
        self._operation_usages.append([])
        self._operation_spreads.append([])

    def enter_fragment_definition(self, node: FragmentDefinitionNode, *_: Any) -> None:
        self._definition = node
        # A second fragment of one name (UniqueFragmentNamesRule refuses it) adds to the first.
        self._usages.setdefault(node.name.value, [])
        self._spreads.setdefault(node.name.value, [])

    def enter_variable_definition(self, *_: Any) -> VisitorAction:
        return self.SKIP  # the variable it defines is no use of it

    def enter_variable(self, node: VariableNode, _key: Any, parent: Any, *_: Any) -> None:
        context = self.context
        parent_type = context.get_parent_input_type()
        usage = Usage(
            node, context.get_input_type(), parent_type, self._default_here(parent, parent_type)
        )
        if isinstance(self._definition, FragmentDefinitionNode):
            self._usages[self._definition.name.value].append(usage)
        elif self._definition is not None:
            self._operation_usages[-1].append(usage)

    def _default_here(self, parent: Any, parent_type: GraphQLInputType | None) -> Any:
        """The default of the argument or input field the variable is the value of, as
        graphql-core's TypeInfo keeps it (which ValidationContext does not expose)."""
        if isinstance(parent, ArgumentNode):
            return _default_of(self.context.get_argument())
        named = get_named_type(parent_type)
        if isinstance(parent, ObjectFieldNode) and is_input_object_type(named):
            return _default_of(named.fields.get(parent.name.value))
        return Undefined  # an item of a list

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_: Any) -> None:
        if isinstance(self._definition, FragmentDefinitionNode):
            self._spreads[self._definition.name.value].append(node.name.value)
        elif self._definition is not None:
            self._operation_spreads[-1].append(node.name.value)

    def leave_document(self, _node: DocumentNode, *_: Any) -> None:
        for operation, usages, spreads in zip(
            self._operations, self._operation_usages, self._operation_spreads, strict=True
        ):
            reached = [*usages]
            for fragment in self._reached_fragments(spreads):
                reached += self._usages[fragment]
            self._check(operation, reached)

    def _reached_fragments(self, spreads: list[str]) -> list[str]:
        """The fragments an operation spreads, directly or through others, each once."""
        seen: set[str] = set()
        pending = [name for name in reversed(spreads) if name in self._usages]
        reached: list[str] = []
        while pending:
            name = pending.pop()
            if name in seen:
                continue
            seen.add(name)
            reached.append(name)
            pending += [s for s in reversed(self._spreads[name]) if s in self._usages]
        return reached

    def _check(self, operation: OperationDefinitionNode, usages: Sequence[Usage]) -> None:
        # Of two definitions of one name (UniqueVariableNamesRule refuses them), the
        # last counts, as in graphql-core.
        defined = {d.variable.name.value: d for d in operation.variable_definitions or ()}
        named = f" by operation '{operation.name.value}'" if operation.name else ""
        used: set[str] = set()
        for usage in usages:
            name = usage.node.name.value
            used.add(name)
            definition = defined.get(name)
            if definition is None:
                self.report_error(
                    GraphQLError(
                        f"Variable '${name}' is not defined{named}.", [usage.node, operation]
                    )
                )
            elif usage.type is not None:
                self._check_position(name, definition, usage)
        in_operation = f" in operation '{operation.name.value}'" if operation.name else ""
        for definition in operation.variable_definitions or ():
            name = definition.variable.name.value
            if name not in used:
                self.report_error(
                    GraphQLError(f"Variable '${name}' is never used{in_operation}.", definition)
                )

    def _check_position(self, name: str, definition: VariableDefinitionNode, usage: Usage) -> None:
        schema = self.context.schema
        var_type = type_from_ast(schema, definition.type)
        if var_type is None or usage.type is None:
            return
        if not allowed_variable_usage(
            schema, var_type, definition.default_value, usage.type, usage.default_value
        ):
            self.report_error(
                GraphQLError(
                    f"Variable '${name}' of type '{var_type}' used"
                    f" in position expecting type '{usage.type}'.",
                    [definition, usage.node],
                )
            )
        parent = usage.parent_type
        if is_input_object_type(parent) and parent.is_one_of and is_nullable_type(var_type):
            self.report_error(
                GraphQLError(
                    f"Variable '${name}' is of type '{var_type}' but must be non-nullable"
                    f" to be used for OneOf Input Object '{parent}'.",
                    [definition, usage.node],
                )
            )


def _default_of(position: GraphQLArgument | GraphQLInputField | None) -> Any:
    if position is None:
        return Undefined
    # graphql-core 3.3 keeps an SDL default as a literal in `default`
    return position.default if position.default is not None else position.default_value


def one_walk_variable_rules(
    rules: Sequence[type[ASTValidationRule]],
) -> tuple[type[ASTValidationRule], ...]:
    """`rules` with graphql-core's three variable rules replaced by VariableUsagesRule."""
    if not set(rules) >= REPLACED_RULES:
        return tuple(rules)
    kept = [rule for rule in rules if rule not in REPLACED_RULES]
    return (*kept, VariableUsagesRule)
