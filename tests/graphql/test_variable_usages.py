"""One walk for the three variable rules: the same errors as graphql-core's rules give."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, build_schema, parse, specified_rules, validate
from graphql.validation import (
    NoUndefinedVariablesRule,
    NoUnusedVariablesRule,
    VariablesInAllowedPositionRule,
)
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ticketing.graphql.limits import linear_rules
from ticketing.graphql.variable_usages import VariableUsagesRule

SCHEMA = build_schema("""
input In { a: Int, b: Int! = 1, c: [Int], n: In }
input One @oneOf { x: Int, y: String }
type Query {
  f(i: Int, j: Int!, k: Int! = 3, s: String, l: [Int], ll: [Int!]!, o: In, one: One): Query
  leaf(i: Int, b: Boolean): Int
}
""")
GRAPHQL_CORE_RULES = (
    NoUndefinedVariablesRule,
    NoUnusedVariablesRule,
    VariablesInAllowedPositionRule,
)
VARIABLES = ("a", "b", "c", "d")
TYPES = ("Int", "Int!", "String", "[Int]", "[Int!]!", "In", "In!", "One", "One!", "Boolean!")
DEFAULTS = ("", " = 1", " = null", ' = "x"', " = [1]", " = {a: 1}")
FRAGMENTS = ("F0", "F1", "F2")

variable = st.sampled_from(VARIABLES).map(lambda name: f"${name}")
# A value for an argument: a variable where it is used whole, in a list, in an
# input object (nested too), in a OneOf input, or a literal.
ARGUMENT_VALUES = {
    "i": st.one_of(variable, st.just("1")),
    "j": st.one_of(variable, st.just("2")),
    "k": variable,
    "s": st.one_of(variable, st.just('"s"')),
    "l": st.one_of(variable, variable.map(lambda v: f"[{v}, 1]")),
    "ll": st.one_of(variable, variable.map(lambda v: f"[{v}]")),
    "o": st.one_of(
        variable,
        variable.map(lambda v: f"{{a: {v}}}"),
        variable.map(lambda v: f"{{b: {v}, n: {{c: [{v}]}}}}"),
    ),
    "one": st.one_of(variable, variable.map(lambda v: f"{{x: {v}}}")),
}


@st.composite
def _field(draw: Any, depth: int, fragments: tuple[str, ...]) -> str:
    if depth == 0 or draw(st.booleans()):
        directive = draw(st.sampled_from(["", " @include(if: $d)", " @skip(if: $a)"]))
        return f"leaf(i: {draw(ARGUMENT_VALUES['i'])}){directive}"
    names = draw(st.lists(st.sampled_from(sorted(ARGUMENT_VALUES)), max_size=3, unique=True))
    arguments = ", ".join(f"{name}: {draw(ARGUMENT_VALUES[name])}" for name in names)
    return (
        f"f({arguments}) {draw(_selection_set(depth - 1, fragments))}"
        if names
        else (f"f {draw(_selection_set(depth - 1, fragments))}")
    )


@st.composite
def _selection_set(draw: Any, depth: int, fragments: tuple[str, ...]) -> str:
    selections = draw(st.lists(_field(depth, fragments), min_size=1, max_size=3))
    spreads = draw(st.lists(st.sampled_from(fragments), max_size=2)) if fragments else []
    return "{ " + " ".join(selections + [f"...{name}" for name in spreads]) + " }"


@st.composite
def documents(draw: Any) -> str:
    definitions = []
    operations = draw(st.integers(min_value=1, max_value=3))
    for n in range(operations):
        defined = draw(st.lists(st.sampled_from(VARIABLES), max_size=4))  # repeats too
        variables = ", ".join(
            f"${name}: {draw(st.sampled_from(TYPES))}{draw(st.sampled_from(DEFAULTS))}"
            for name in defined
        )
        head = f"query Q{n}" if operations > 1 or draw(st.booleans()) else "query"
        head += f"({variables})" if variables else ""
        definitions.append(f"{head} {draw(_selection_set(2, FRAGMENTS))}")
    for name in FRAGMENTS:  # each may spread any fragment, itself and cycles included
        definitions.append(f"fragment {name} on Query {draw(_selection_set(1, FRAGMENTS))}")
    return "\n".join(definitions)


def _errors(document: str, rules: Any) -> list[tuple[str, Any]]:
    found: list[GraphQLError] = validate(SCHEMA, parse(document), rules)
    return sorted((e.message, [(loc.line, loc.column) for loc in e.locations or ()]) for e in found)


@settings(
    max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(document=documents())
@example(document="query ($a: Int) { f(j: $a) { leaf } }")
@example(document="query Q($a: Int, $a: Int!) { f(j: $a) { leaf } }")
@example(document="query ($a: Int = 1) { f(j: $a, one: {x: $b}) { leaf } }")
@example(document="query ($a: [Int]) { f(ll: [$a]) { ...F } } fragment F on Query { leaf(i: $c) }")
def test_it_reports_exactly_what_graphql_core_s_three_rules_report(document: str) -> None:
    assert _errors(document, [VariableUsagesRule]) == _errors(document, GRAPHQL_CORE_RULES)


def test_the_validation_runs_it_in_place_of_the_three() -> None:
    rules = linear_rules(tuple(specified_rules))

    assert VariableUsagesRule in rules
    assert not set(GRAPHQL_CORE_RULES) & set(rules)
