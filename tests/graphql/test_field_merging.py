"""FieldsCanMergeRule refuses exactly what graphql-core's OverlappingFieldsCanBeMergedRule
refuses, and says why with both fields' locations.

The ticketing schema has no interfaces or unions, so the abstract cases run on a
small schema that has them (tests/support/documents.py).
"""

from __future__ import annotations

import os

import pytest
from graphql import (
    GraphQLSchema,
    OverlappingFieldsCanBeMergedRule,
    PossibleFragmentSpreadsRule,
    parse,
    specified_rules,
    validate,
)
from hypothesis import HealthCheck, given, settings

from tests.support.documents import ABSTRACT_SCHEMA, documents
from ticketing.graphql import field_merging
from ticketing.graphql.field_merging import MAX_CONFLICTS, FieldMergeCheck, FieldsCanMergeRule
from ticketing.graphql.limits import linear_rules
from ticketing.graphql.schema import build_schema
from ticketing.graphql.variable_usages import REPLACED_RULES, VariableUsagesRule

TICKETING = build_schema()._schema

# (document, refused?) on the ticketing schema
TICKETING_CASES = [
    pytest.param("{ me { id } me { id } }", False, id="the-same-field-twice"),
    pytest.param("{ x: me { id } x: configuration { version } }", True, id="two-fields-one-alias"),
    pytest.param("{ me { x: id x: displayName } }", True, id="two-leaves-one-alias"),
    pytest.param(
        "{ tickets(first: 1) { totalCount } tickets(first: 2) { totalCount } }",
        True,
        id="differing-arguments",
    ),
    pytest.param(
        '{ tickets(first: 1, after: "a") { totalCount } '
        'tickets(after: "a", first: 1) { totalCount } }',
        False,
        id="the-same-arguments-reordered",
    ),
    pytest.param(
        '{ tickets(filter: {search: "a", ownerId: "1"}) { totalCount } '
        'tickets(filter: {ownerId: "1", search: "a"}) { totalCount } }',
        False,
        id="object-fields-reordered",
    ),
    pytest.param(
        '{ ticket(id: "1") { id } ticket(id: """1""") { id } }', True, id="block-string-differs"
    ),
    pytest.param(
        'query($id: ID!) { ticket(id: $id) { id } ticket(id: "1") { id } }',
        True,
        id="variable-and-literal",
    ),
    pytest.param(
        "{ tickets { totalCount } tickets(first: 20) { totalCount } }",
        True,
        id="a-default-is-no-argument",
    ),
    pytest.param(
        "{ tickets { edges { node { x: id } } } tickets { edges { node { x: title } } } }",
        True,
        id="three-levels-down",
    ),
    pytest.param(
        "{ ...F me { x: id } } fragment F on Query { me { x: displayName } }",
        True,
        id="through-a-fragment",
    ),
    pytest.param(
        "{ ...A } fragment A on Query { me { id } ...B } "
        "fragment B on Query { ...C } fragment C on Query { me: configuration { version } }",
        True,
        id="through-nested-fragments",
    ),
    pytest.param(
        "{ ... { me { x: id } } ... on Query { me { x: id } } }", False, id="inline-fragments"
    ),
    pytest.param(
        "{ ... { me { x: id } } ... on Query { me { x: role } } }", True, id="inline-conflict"
    ),
    pytest.param("{ x: __typename x: __typename }", False, id="typename-twice"),
    pytest.param("{ me { id @stream id } }", True, id="stream-merged"),
    pytest.param("{ me { id @stream } }", False, id="stream-alone"),
    pytest.param(
        "{ __schema { x: queryType { name } x: mutationType { name } } }",
        True,
        id="introspection-aliases",
    ),
    pytest.param(
        "{ __schema { types { ...T } types { name } } } fragment T on __Type { name kind }",
        False,
        id="introspection-fragment",
    ),
    pytest.param("{ a { x } a { y } }", False, id="unknown-fields-merge-their-selections"),
    pytest.param("{ a { x: b } a { x: c } }", True, id="unknown-fields-conflict-below"),
    pytest.param(
        "{ ...A } fragment A on Query { ...B me { x: id } } fragment B on Query { ...A }",
        False,
        id="a-fragment-cycle-ends",
    ),
]

# (document, refused?) on a schema with interfaces and a union
ABSTRACT_CASES = [
    pytest.param("{ node { ... on A { x } ... on B { x } } }", True, id="int-and-string-leaves"),
    pytest.param("{ node { ... on A { y } ... on B { y } } }", True, id="list-item-nullability"),
    pytest.param("{ node { ... on A { p: z } ... on B { p: z } } }", False, id="same-shape"),
    pytest.param(
        "{ node { ... on A { p: name } ... on B { p: x(k: 1) } } }",
        False,
        id="exclusive-parents-may-differ-in-name",
    ),
    pytest.param(
        "{ node { p: name ... on B { p: x } } }", True, id="an-interface-parent-is-not-exclusive"
    ),
    pytest.param(
        "{ node { ... on A { a { p: id } } ... on B { a { p: name } } } }",
        True,
        id="exclusive-parents-still-agree-in-shape-below",
    ),
    pytest.param(
        "{ node { ... on A { a { p: id } } ... on B { a { p: z } } } }",
        True,
        id="id-and-int-differ",
    ),
    pytest.param(
        "{ ab { ... on A { x(k: 1) } ... on B { x(k: 2) } } }",
        True,
        id="union-members-differ-in-type",
    ),
    pytest.param(
        "{ named { ... on A { p: name } ... on C { p: name } p: name } }",
        False,
        id="interface-and-objects-agree",
    ),
    pytest.param(
        "{ named { ... on A { a { q: id } } a { q: name } } }",
        True,
        id="abstract-below-meets-each-object",
    ),
    pytest.param(
        "{ node { ...on A { nodes { ... on B { v: z } } } nodes { ... on B { v: name } } } }",
        True,
        id="through-an-abstract-and-back",
    ),
]


def refused(schema: GraphQLSchema, document: str, rule: type) -> bool:
    return bool(validate(schema, parse(document), [rule]))


@pytest.mark.parametrize(("document", "expected"), TICKETING_CASES)
def test_on_the_ticketing_schema_both_rules_agree(document: str, expected: bool) -> None:
    assert refused(TICKETING, document, OverlappingFieldsCanBeMergedRule) is expected
    assert refused(TICKETING, document, FieldsCanMergeRule) is expected


@pytest.mark.parametrize(("document", "expected"), ABSTRACT_CASES)
def test_with_interfaces_and_unions_both_rules_agree(document: str, expected: bool) -> None:
    assert refused(ABSTRACT_SCHEMA, document, OverlappingFieldsCanBeMergedRule) is expected
    assert refused(ABSTRACT_SCHEMA, document, FieldsCanMergeRule) is expected


# Hypothesis: repeatable (no example database), no deadline on a busy machine; ~10 s.
# MERGING_EXAMPLES=5000 explores further (run so before each change to the rule).
equivalence = settings(
    max_examples=int(os.environ.get("MERGING_EXAMPLES", "300")),
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


@equivalence
@given(document=documents(TICKETING))
def test_any_document_is_refused_by_both_rules_or_neither(document: str) -> None:
    ours = refused(TICKETING, document, FieldsCanMergeRule)
    assert ours == refused(TICKETING, document, OverlappingFieldsCanBeMergedRule), document


@equivalence
@given(document=documents(ABSTRACT_SCHEMA, fragments=4, depth=3))
def test_with_abstract_types_any_document_is_refused_by_both_or_neither(document: str) -> None:
    ours = refused(ABSTRACT_SCHEMA, document, FieldsCanMergeRule)
    assert ours == refused(ABSTRACT_SCHEMA, document, OverlappingFieldsCanBeMergedRule), document


def test_where_the_rules_differ_the_document_is_refused_anyway() -> None:
    # Inside introspection, graphql-core compares two `__schema` selections as of an
    # unknown type (so `... on __Type` there meets the other fields) and checks one
    # as of __Schema; we take __Schema for both. A type condition naming another
    # type is all it takes to tell, and PossibleFragmentSpreadsRule refuses it.
    document = "{ __schema { p: description } __schema { ... on __Type { p: name } } }"
    assert refused(TICKETING, document, OverlappingFieldsCanBeMergedRule)
    assert not refused(TICKETING, document, FieldsCanMergeRule)
    assert refused(TICKETING, document, PossibleFragmentSpreadsRule)


def test_a_conflict_names_the_response_name_the_reason_and_both_fields() -> None:
    document = parse("{ me { id } x: me { id } x: configuration { version } }")

    [error] = validate(TICKETING, document, [FieldsCanMergeRule])

    assert error.message == (
        "Fields 'x' conflict because 'me' and 'configuration' are different fields. "
        "Use different aliases on the fields to fetch both if this was intentional."
    )
    assert [(loc.line, loc.column) for loc in error.locations or ()] == [(1, 13), (1, 26)]


def test_conflicting_types_are_named() -> None:
    document = parse("{ node { ... on A { a { p: id } } ... on B { a { p: z } } } }")

    [error] = validate(ABSTRACT_SCHEMA, document, [FieldsCanMergeRule])

    assert "they return conflicting types 'ID!' and 'Int!'" in error.message


def test_a_document_reports_at_most_a_few_conflicts() -> None:
    # graphql-core reports 100 here, then gives up, after comparing every pair.
    fields = " ".join(f"tickets(first: {n}) {{ totalCount }}" for n in range(200))

    errors = validate(TICKETING, parse("{ " + fields + " }"), [FieldsCanMergeRule])

    assert len(errors) == MAX_CONFLICTS
    assert all("differing arguments" in error.message for error in errors)


def test_work_beyond_the_budget_refuses_the_document(monkeypatch: pytest.MonkeyPatch) -> None:
    # Type conditions under abstract parents, each pairing selections below.
    monkeypatch.setattr(field_merging, "MIN_WORK", 100)
    monkeypatch.setattr(field_merging, "WORK_PER_TOKEN", 1)
    levels = [
        f"fragment Z{i} on Nope {{ ... on User {{ a {{ ...Z{i + 1} }} }} a {{ ...Z{i + 1} b }} }}"
        for i in range(40)
    ]
    document = "{ __schema { ...Z0 } }\n" + "\n".join(levels) + "\nfragment Z40 on Nope { c }"

    [error] = validate(TICKETING, parse(document), [FieldsCanMergeRule])

    assert error.message.startswith("The operation is too complex to validate")


def test_fragment_arguments_are_refused_not_compared() -> None:
    # Experimental syntax that the server's parser never accepts.
    document = parse(
        "{ ...F(n: 1) } fragment F($n: Int) on Query { tickets(first: $n) { totalCount } }",
        experimental_fragment_arguments=True,
    )

    [error] = FieldMergeCheck(TICKETING, document).run()

    assert error.message == "Fragment arguments are not supported."


def test_validation_uses_the_linear_rule_in_place_of_graphql_cores() -> None:
    rules = linear_rules(tuple(specified_rules))

    assert OverlappingFieldsCanBeMergedRule not in rules
    # in its place among the others (the variable rules are replaced too: variable_usages.py)
    others = [r for r in specified_rules if r not in REPLACED_RULES]
    assert [r for r in rules if r is not VariableUsagesRule] == [
        FieldsCanMergeRule if r is OverlappingFieldsCanBeMergedRule else r for r in others
    ]
