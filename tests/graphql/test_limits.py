"""Operation limits on the schema alone: depth, aliases, tokens, cost; introspection, hints."""

from __future__ import annotations

import time
from typing import Any

import pytest
from graphql import parse
from graphql.language.parser import Parser

from ticketing.graphql.cost import operation_cost
from ticketing.graphql.document_shape import Shape, measure
from ticketing.graphql.limits import OperationLimits
from ticketing.graphql.schema import build_schema

SCHEMA = build_schema()
GRAPHQL_SCHEMA = SCHEMA._schema

# tickets(first: 100) { edges { node { messages(first: 100) { edges { node { body } } } } } }:
# messages = 1 + 100 * (edges 1 + node 1 + body 1) = 301; node = 1 + 301; edges = 1 + 302;
# tickets = 1 + 100 * 303.
NESTED_LISTS_COST = 1 + 100 * (1 + 1 + 1 + 100 * 3)


def nested_lists(t: object, m: object) -> str:
    messages = f"messages(first: {m}) {{ edges {{ node {{ body }} }} }}"
    return f"tickets(first: {t}) {{ edges {{ node {{ {messages} }} }} }}"


def cost(document: str, variables: dict[str, Any] | None = None, name: str | None = None) -> int:
    return operation_cost(GRAPHQL_SCHEMA, parse(document), name, variables)


def deep_query(depth: int) -> str:
    # The schema does not nest 13 deep, and needs not: the depth limit looks at the
    # document alone, before validation (which would refuse the unknown field `a`).
    inner = "id"
    for _ in range(depth - 1):
        inner = f"a {{ {inner} }}"
    return "{ " + inner + " }"


async def codes_and_messages(schema: Any, document: str, **kwargs: Any) -> list[tuple[str, str]]:
    result = await schema.execute(document, **kwargs)
    assert result.errors, result
    return [(e.extensions["code"], e.message) for e in result.errors]


# --- the document's shape ---------------------------------------------------------------


def test_depth_counts_the_fields_on_the_longest_path_leaf_included() -> None:
    assert measure(parse("{ me { id } }")).depth == 2
    assert measure(parse(deep_query(13))).depth == 13
    assert measure(parse("{ me { id } tickets { edges { node { id } } } }")).depth == 4


def test_depth_follows_fragments_and_skips_introspection() -> None:
    document = """
    { ...A __schema { types { fields { type { ofType { ofType { name } } } } } } }
    fragment A on Query { tickets { edges { ... on TicketEdge { node { ...B } } } } }
    fragment B on Ticket { owner { id } }
    """
    assert measure(parse(document)) == Shape(depth=5, aliases=0)  # tickets edges node owner id


def test_aliases_inside_fragments_count_once_for_every_spread() -> None:
    document = """
    { a: me { id } ...F ...F x: configuration { ...G } }
    fragment F on Query { b: me { id } c: me { i: id } }
    fragment G on Configuration { v: version }
    """
    # a, x, v; and F's three aliases twice over
    assert measure(parse(document)).aliases == 3 + 2 * 3


def test_a_fragment_fan_out_is_measured_in_linear_time() -> None:
    # Each fragment spreads the next twice: 2**60 aliased fields in ~500 tokens.
    # strawberry's MaxAliasesLimiter and QueryDepthLimiter walk every spread again
    # (exponential time); measuring each fragment once stays instant.
    levels = 60
    document = "{ ...F0 }\n" + "".join(
        f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}\n" for i in range(levels)
    )
    document += f"fragment F{levels} on Query {{ a: me {{ id }} }}"
    started = time.perf_counter()
    shape = measure(parse(document))
    assert time.perf_counter() - started < 0.5
    assert shape == Shape(depth=2, aliases=2**levels)


def test_unknown_and_cyclic_fragments_do_not_break_the_measure() -> None:
    document = (
        "{ ...A ...Missing } fragment A on Query { ...B } fragment B on Query { ...A me { id } }"
    )
    assert measure(parse(document)) == Shape(depth=2, aliases=0)


# --- the cost -----------------------------------------------------------------------------


def test_nested_lists_multiply_by_their_literal_first() -> None:
    assert cost("{ " + nested_lists(100, 100) + " }") == NESTED_LISTS_COST


def test_first_from_variables_and_from_the_variable_default() -> None:
    document = "query Q($t: Int, $m: Int = 100) { " + nested_lists("$t", "$m") + " }"
    assert cost(document, {"t": 100}) == NESTED_LISTS_COST
    assert cost(document, {"t": 100, "m": 100}) == NESTED_LISTS_COST
    assert cost(document, {"t": 10, "m": 5}) == 1 + 10 * (3 + 5 * 3)


def test_without_first_the_schema_defaults_count() -> None:
    # tickets 20, messages 50; null means the default too (as in the API)
    assert cost("{ tickets { edges { node { messages { edges { node { body } } } } } } }") == (
        1 + 20 * (3 + 50 * 3)
    )
    assert cost("query($t: Int) { tickets(first: $t) { totalCount } }", {"t": None}) == 1 + 20
    assert cost("{ tickets(first: null) { totalCount } }") == 1 + 20
    assert cost("{ logs { edges { cursor } } }") == 1 + 50 * 2


def test_fragments_cost_wherever_they_are_spread() -> None:
    document = """
    { ...T ...T }
    fragment T on Query { tickets(first: 10) { edges { node { ...M } } } }
    fragment M on Ticket { messages(first: 10) { edges { cursor } } }
    """
    per_spread = 1 + 10 * (1 + 1 + (1 + 10 * 2))
    assert cost(document) == 2 * per_spread
    inline = "{ tickets(first: 10) { edges { ... on TicketEdge { node { id } } } } }"
    assert cost(inline) == 1 + 10 * (1 + 2)


def test_the_selected_operation_is_costed() -> None:
    document = "query Small { me { id } } query Big { " + nested_lists(100, 100) + " }"
    assert cost(document, name="Small") == 2
    assert cost(document, name="Big") == NESTED_LISTS_COST


# --- the limits in the schema -------------------------------------------------------------


async def test_too_deep_is_refused_as_bad_user_input_before_validation() -> None:
    schema = build_schema(limits=OperationLimits(max_depth=12))

    [(code, message)] = await codes_and_messages(schema, deep_query(13))

    assert code == "BAD_USER_INPUT"
    assert message == "The operation is nested 13 fields deep; at most 12 are allowed."
    # 12 deep passes the limit (and fails validation: `a` is no field)
    [(_, message)] = await codes_and_messages(schema, deep_query(12))
    assert message.startswith("Cannot query field 'a'")


async def test_too_many_aliases_counting_fragments_is_refused() -> None:
    schema = build_schema(limits=OperationLimits(max_aliases=30))
    fifteen = " ".join(f"t{n}: __typename" for n in range(15))
    document = "{ ...F ...F x: __typename } fragment F on Query { " + fifteen + " }"

    [(code, message)] = await codes_and_messages(schema, document)

    assert code == "BAD_USER_INPUT"
    assert message == "The operation uses 31 aliases; at most 30 are allowed."
    allowed = await schema.execute("{ ...F ...F } fragment F on Query { " + fifteen + " }")
    assert allowed.errors is None


async def test_a_document_too_long_is_refused_before_it_is_parsed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    schema = build_schema(limits=OperationLimits(max_length=100))
    parsed: list[object] = []
    monkeypatch.setattr(Parser, "parse_document", lambda parser: parsed.append(parser))
    # Within the token limit: a comment is no token, but the lexer reads it.
    document = "{ __typename } # " + "x" * 84

    [(code, message)] = await codes_and_messages(schema, document)

    assert code == "BAD_USER_INPUT"
    assert message == (
        "The document is 101 characters long; at most 100 are allowed. "
        "Send long values (a ticket's description, a message) as variables."
    )
    assert parsed == []


async def test_the_length_limit_holds_for_subscriptions_too() -> None:
    schema = build_schema(limits=OperationLimits(max_length=100))
    document = "subscription { configurationUpdated { version } } # " + "x" * 49

    stream = await schema.subscribe(document)
    [result] = [result async for result in stream]

    assert result.data is None
    [error] = result.errors or []
    assert error.extensions == {"code": "BAD_USER_INPUT"}
    assert error.message.startswith("The document is 101 characters long")


async def test_a_document_within_the_length_limit_runs() -> None:
    schema = build_schema(limits=OperationLimits(max_length=100))

    result = await schema.execute("{ __typename } # " + "x" * 83)

    assert result.errors is None


async def test_too_many_tokens_is_refused() -> None:
    schema = build_schema(limits=OperationLimits(max_tokens=50))
    document = "{ " + "__typename " * 49 + "}"

    [(code, message)] = await codes_and_messages(schema, document)

    assert code == "BAD_USER_INPUT"
    assert "more than 50 tokens" in message
    assert (await schema.execute("{ " + "__typename " * 40 + "}")).errors is None


async def test_too_costly_is_refused_with_a_literal_or_a_variable_first() -> None:
    schema = build_schema(limits=OperationLimits(max_cost=10_000))
    literal = "{ " + nested_lists(100, 100) + " }"
    variable = "query($m: Int) { " + nested_lists(100, "$m") + " }"

    for document, variables in ((literal, None), (variable, {"m": 100})):
        [(code, message)] = await codes_and_messages(schema, document, variable_values=variables)
        assert code == "BAD_USER_INPUT"
        assert message.startswith(f"The operation could cost {NESTED_LISTS_COST}; at most 10000")


async def test_the_cost_of_the_same_document_follows_its_variables() -> None:
    # Validation is cached per document; the cost is not, it depends on the variables.
    schema = build_schema(limits=OperationLimits(max_cost=10_000))
    document = "query($m: Int) { " + nested_lists(10, "$m") + " }"

    cheap = await schema.execute(document, variable_values={"m": 2})
    dear = await schema.execute(document, variable_values={"m": 400})

    assert cheap.errors is None or "could cost" not in cheap.errors[0].message
    assert dear.errors is not None
    assert dear.errors[0].message.startswith("The operation could cost")


# --- introspection and suggestions --------------------------------------------------------

SUGGESTING = [
    pytest.param("{ me { idd } }", None, "Cannot query field 'idd'", id="field"),
    pytest.param("{ tickets(firts: 1) { totalCount } }", None, "Unknown argument", id="argument"),
    pytest.param(
        "{ tickets(filter: {status: [OPN]}) { totalCount } }", None, "OPN", id="enum-literal"
    ),
    pytest.param(
        "query($f: TicketFilter) { tickets(filter: $f) { totalCount } }",
        {"f": {"statuss": ["OPEN"]}},
        "statuss",
        id="input-field-variable",
    ),
    pytest.param(
        "query($f: TicketFilter) { tickets(filter: $f) { totalCount } }",
        {"f": {"status": ["OPN"]}},
        "OPN",
        id="enum-variable",
    ),
    pytest.param(
        "query($f: TicketFiltr) { tickets(filter: $f) { totalCount } }",
        None,
        "Unknown type",
        id="type",
    ),
]


@pytest.mark.parametrize(("document", "variables", "about"), SUGGESTING)
async def test_with_introspection_errors_suggest_names(
    document: str, variables: dict[str, Any] | None, about: str
) -> None:
    [(code, message)] = await codes_and_messages(SCHEMA, document, variable_values=variables)

    assert code == "BAD_USER_INPUT"
    assert about in message
    assert "Did you mean" in message


@pytest.mark.parametrize(("document", "variables", "about"), SUGGESTING)
async def test_without_introspection_errors_suggest_nothing(
    document: str, variables: dict[str, Any] | None, about: str
) -> None:
    schema = build_schema(introspection=False)

    [(code, message)] = await codes_and_messages(schema, document, variable_values=variables)

    assert code == "BAD_USER_INPUT"
    assert about in message
    assert "Did you mean" not in message


async def test_introspection_can_be_turned_off() -> None:
    assert (await SCHEMA.execute("{ __schema { queryType { name } } }")).errors is None
    schema = build_schema(introspection=False)

    for document in ("{ __schema { queryType { name } } }", '{ __type(name: "User") { name } }'):
        errors = await codes_and_messages(schema, document)
        assert {code for code, _ in errors} == {"BAD_USER_INPUT"}
        assert all("introspection has been disabled" in message for _, message in errors)
    assert (await schema.execute("{ __typename }")).errors is None
