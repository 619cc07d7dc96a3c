"""Limits on what one operation may ask for: length, tokens, depth, aliases and cost.

- Length: a longer document is refused before it is parsed (document_length.py).
- Tokens: graphql-core's parser stops past `max_tokens` (parser_cache.py).
- Depth and aliases: measured from the document alone, before validation, so an
  oversized document is refused before the (costlier) validation rules run.
- Validation: graphql-core's rules, but OverlappingFieldsCanBeMergedRule (time
  quadratic in a repeated field) is replaced by our linear FieldsCanMergeRule,
  and the three variable rules (a second walk of the document) by one rule.
- Cost: after validation, with the operation's variables (see `cost.py`), which a
  graphql-core validation rule never sees; so this runs in the validation step
  of a schema extension, where strawberry's execution context has them.

A refusal is a GraphQL error without a path, so ErrorCodes gives it
BAD_USER_INPUT, and nothing of the operation runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from graphql.error import GraphQLError
from graphql.validation import ASTValidationRule, OverlappingFieldsCanBeMergedRule
from strawberry.extensions import SchemaExtension, ValidationCache
from strawberry.types import ExecutionContext

from ticketing.graphql.cost import operation_cost
from ticketing.graphql.document_length import DEFAULT_MAX_LENGTH
from ticketing.graphql.document_shape import measure
from ticketing.graphql.field_merging import FieldsCanMergeRule
from ticketing.graphql.parser_cache import InBandParserCache
from ticketing.graphql.variable_usages import one_walk_variable_rules

VALIDATION_CACHE_SIZE = 512
PARSE_CACHE_SIZE = 512


@dataclass(frozen=True, slots=True)
class OperationLimits:
    max_length: int = DEFAULT_MAX_LENGTH
    max_depth: int = 12
    max_tokens: int = 1000
    max_aliases: int = 30
    max_cost: int = 10_000


def limit_extensions(limits: OperationLimits) -> list[Callable[[], SchemaExtension]]:
    """The extensions that enforce `limits`, parsing and validating (both cached)."""
    return [
        lambda: InBandParserCache(maxsize=PARSE_CACHE_SIZE, max_tokens=limits.max_tokens),
        lambda: LimitedValidation(limits),
    ]


class LimitedValidation(ValidationCache):
    """Validation (cached, as ValidationCache) between the shape and the cost checks."""

    def __init__(self, limits: OperationLimits) -> None:
        super().__init__(maxsize=VALIDATION_CACHE_SIZE)
        self._limits = limits

    def on_validate(self) -> Iterator[None]:
        # Setting the errors here stands for strawberry's own validation step.
        self.execution_context.pre_execution_errors = self._errors(self.execution_context)
        yield

    def _errors(self, context: ExecutionContext) -> list[GraphQLError]:
        document = context.graphql_document
        assert document is not None  # parsed before validation
        limits = self._limits
        try:
            shape = measure(document)
        except RecursionError:
            return [GraphQLError("The operation is nested too deeply.")]
        if shape.depth > limits.max_depth:
            return [
                GraphQLError(
                    f"The operation is nested {shape.depth} fields deep; "
                    f"at most {limits.max_depth} are allowed."
                )
            ]
        if shape.aliases > limits.max_aliases:
            return [
                GraphQLError(
                    f"The operation uses {shape.aliases} aliases; "
                    f"at most {limits.max_aliases} are allowed."
                )
            ]
        errors: list[GraphQLError] = self.cached_validate_document(
            context.schema._schema, document, linear_rules(context.validation_rules)
        )
        if errors:
            return errors
        try:
            cost = operation_cost(
                context.schema._schema, document, context.operation_name, context.variables
            )
        except RecursionError:
            cost = limits.max_cost + 1
        if cost > limits.max_cost:
            return [
                GraphQLError(
                    f"The operation could cost {cost}; at most {limits.max_cost} is allowed. "
                    "Each field costs 1 and a list costs its `first` times what it selects "
                    "(nested lists multiply): ask for fewer items or fewer nested lists."
                )
            ]
        return []


def linear_rules(
    rules: tuple[type[ASTValidationRule], ...],
) -> tuple[type[ASTValidationRule], ...]:
    """The rules, with graphql-core's quadratic field merging replaced by our linear one,
    and its three variable rules by one that needs no second walk (variable_usages.py)."""
    return one_walk_variable_rules(
        [FieldsCanMergeRule if rule is OverlappingFieldsCanBeMergedRule else rule for rule in rules]
    )
