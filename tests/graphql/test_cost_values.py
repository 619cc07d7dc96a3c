"""The cost counts the page sizes graphql-core will run with, however the client spells them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from graphql import GraphQLSchema, parse
from graphql import build_schema as build_sdl_schema

from ticketing.graphql.cost import operation_cost
from ticketing.graphql.limits import OperationLimits
from ticketing.graphql.page_size import PAGE_SIZE_NAME, is_page_size
from ticketing.graphql.schema import build_schema

SCHEMA = build_schema()

# tickets(first: T) { edges { node { messages(first: M) { edges { node { body } } } } } }
NESTED = """
query Nested($t: Int, $m: Int) {
  tickets(first: $t) { edges { node { messages(first: $m) { edges { node { body } } } } } }
}
"""


def nested_cost(tickets: int, messages: int) -> int:
    return 1 + tickets * (1 + 1 + 1 + messages * 3)


def cost(document: str, variables: Any = None, schema: GraphQLSchema = SCHEMA._schema) -> int:
    return operation_cost(schema, parse(document), None, variables)


# --- variables: what graphql-core's Int coercion turns into an int ----------------------


@pytest.mark.parametrize(
    "raw_json",
    [
        '{"t": 100, "m": 100}',
        '{"t": 100.0, "m": 100.0}',
        '{"t": 1e2, "m": 1E2}',
        '{"t": 1.0e2, "m": 100}',
    ],
)
def test_a_variable_counts_as_the_int_it_runs_as(raw_json: str) -> None:
    # JSON has one number type: 100.0 and 1e2 arrive as the float 100.0 and run as 100.
    assert cost(NESTED, json.loads(raw_json)) == nested_cost(100, 100)


def test_a_float_variable_is_not_mistaken_for_a_missing_one() -> None:
    # The bug this file is about: 100.0 counted as "unknown, use the default" (20 and 50).
    assert cost(NESTED, {"t": 100.0, "m": 100.0}) > nested_cost(20, 50)


@pytest.mark.parametrize(
    "value",
    ["100", True, 100.5, [100], {"n": 100}, 2**31, 1e10],
    ids=["string", "boolean", "fraction", "list", "object", "over-32-bit", "huge-float"],
)
def test_a_variable_that_does_not_coerce_costs_nothing_because_nothing_runs(value: Any) -> None:
    assert cost(NESTED, {"t": value, "m": 100}) == 0


async def test_the_executor_refuses_what_the_cost_did_not_count() -> None:
    # The other half of the previous test: that cost of 0 is safe only because
    # graphql-core refuses the operation before any resolver runs.
    for value in ("100", True, 100.5, [100], 2**31):
        result = await SCHEMA.execute(NESTED, variable_values={"t": value, "m": 100})
        assert result.data is None
        assert [e.extensions["code"] for e in result.errors or []] == ["BAD_USER_INPUT"]
        assert "Variable '$t' has invalid value" in (result.errors or [])[0].message


def test_defaults_and_null_count_as_they_run() -> None:
    defaults = "query($t: Int = 100, $m: Int = 100) { " + NESTED.split("{", 1)[1]
    assert cost(defaults) == nested_cost(100, 100)  # the variables' defaults
    assert cost(defaults, {"t": 3}) == nested_cost(3, 100)
    assert cost(defaults, {"t": None, "m": None}) == nested_cost(20, 50)  # null: the API default
    assert cost(NESTED) == nested_cost(20, 50)  # not sent, no default: the schema's defaults
    assert cost(NESTED, {}) == nested_cost(20, 50)


def test_literals_count_as_they_run() -> None:
    literal = NESTED.replace("($t: Int, $m: Int)", "")
    assert cost(literal.replace("$t", "100").replace("$m", "100")) == nested_cost(100, 100)
    assert cost(literal.replace("$t", "null").replace("$m", "7")) == nested_cost(20, 7)


def test_aliases_and_fragments_each_count_with_their_own_arguments() -> None:
    document = """
    query($f: Int) {
      a: tickets(first: $f) { ...Page }
      b: tickets(first: 2) { ...Page }
      ... on Query { c: tickets { totalCount } }
    }
    fragment Page on TicketConnection { edges { node { messages(first: $f) { totalCount } } } }
    """
    page = 1 + (1 + (1 + 100 * 1))  # edges { node { messages(first: 100) { totalCount } } }
    a, b, c = 1 + 100 * page, 1 + 2 * page, 1 + 20 * 1
    assert cost(document, {"f": 100.0}) == a + b + c


def test_the_variables_must_be_a_mapping_for_anything_to_run() -> None:
    assert cost(NESTED, [100, 100]) == 0


# --- page sizes anywhere in the arguments ------------------------------------------------

NESTED_PAGE_SCHEMA = build_sdl_schema(
    """
    input Page { first: Int = 10, after: String }
    input Filter { page: Page, pages: [Page!], first: String, limit: Int }
    type Item { id: ID, children(filter: Filter): [Item] }
    type Query { items(filter: Filter, first: Int = 5): [Item] }
    """
)


def nested_page_cost(document: str, variables: dict[str, Any] | None = None) -> int:
    return cost(document, variables, NESTED_PAGE_SCHEMA)


def test_a_page_size_inside_an_input_object_counts() -> None:
    # items(first: 5 by default) or the largest page size found anywhere below it
    assert nested_page_cost("{ items { id } }") == 1 + 5
    assert nested_page_cost("{ items(filter: {page: {first: 40}}) { id } }") == 1 + 40
    assert nested_page_cost("{ items(filter: {page: {}}) { id } }") == 1 + 10  # the field default
    assert nested_page_cost("{ items(filter: {page: {first: null}}) { id } }") == 1 + 10


def test_a_page_size_inside_an_input_object_counts_from_any_variable() -> None:
    inner = "query($f: Int) { items(filter: {page: {first: $f}}) { id } }"
    whole = "query($p: Filter) { items(filter: $p) { id } }"
    assert nested_page_cost(inner, {"f": 40.0}) == 1 + 40
    assert nested_page_cost(whole, {"p": {"page": {"first": 40.0}}}) == 1 + 40
    assert nested_page_cost(whole, {"p": {"pages": [{"first": 3}, {"first": 1e2}]}}) == 1 + 100
    assert nested_page_cost(whole, {"p": {"pages": {"first": 60.0}}}) == 1 + 60  # a list of one


def test_only_int_positions_named_first_are_page_sizes() -> None:
    assert nested_page_cost('{ items(first: 1, filter: {first: "99", limit: 99}) { id } }') == 2


def test_nested_page_sizes_multiply() -> None:
    document = (
        "query($f: Int) { items(first: $f) { children(filter: {page: {first: $f}}) { id } } }"
    )
    assert nested_page_cost(document, {"f": 30.0}) == 1 + 30 * (1 + 30 * 1)


def test_every_page_size_of_the_schema_has_an_int_default() -> None:
    # A page size without a default would count as the most a page allows: our own
    # schema should never need that guess.
    schema = SCHEMA._schema
    positions = [
        (f"{type_name}.{field_name}({name}:)", argument)
        for type_name, type_ in schema.type_map.items()
        for field_name, field in getattr(type_, "fields", {}).items()
        for name, argument in getattr(field, "args", {}).items()
        if name == PAGE_SIZE_NAME
    ]
    assert positions, "the schema has page sizes"
    for where, argument in positions:
        assert is_page_size(PAGE_SIZE_NAME, argument), where
        assert isinstance(argument.default_value, int), where


async def test_a_float_first_over_the_limit_is_refused_before_running() -> None:
    schema = build_schema(limits=OperationLimits(max_cost=10_000))

    result = await schema.execute(NESTED, variable_values={"t": 100.0, "m": 100.0})

    assert result.data is None
    assert [e.extensions["code"] for e in result.errors or []] == ["BAD_USER_INPUT"]
    assert (result.errors or [])[0].message.startswith(
        f"The operation could cost {nested_cost(100, 100)}; at most 10000"
    )
