"""With introspection off, error messages name nothing of the schema that the client did not write.

Every message here is produced by graphql-core or strawberry themselves (never
copied), so a message they reword fails a test here instead of leaking.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
import strawberry
from graphql import FieldNode, GraphQLError, GraphQLSchema, ValidationRule, parse, validate
from graphql import build_schema as build_sdl_schema
from graphql.execution.values import get_argument_values, get_variable_values
from strawberry.extensions import AddValidationRules

from ticketing.errors import InvalidInput
from ticketing.graphql.errors_without_schema import ErrorCodesWithoutSchema
from ticketing.graphql.schema import build_schema
from ticketing.graphql.schema_free_messages import schema_free
from ticketing.graphql.unwritten_names import GENERIC_MESSAGE

OPEN = build_schema()
CLOSED = build_schema(introspection=False)
NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")
QUOTED = re.compile(r"'([^']*)'")


def names_in(*texts: Any) -> set[str]:
    return {name for text in texts for name in NAME.findall(str(text))}


def schema_names(schema: GraphQLSchema) -> tuple[set[str], set[str]]:
    """The schema's type names, and all its names (types, fields, arguments, enum values)."""
    types = set(schema.type_map)
    names = set(types)
    for type_ in schema.type_map.values():
        names |= set(getattr(type_, "values", None) or ())
        for field_name, field in (getattr(type_, "fields", None) or {}).items():
            names |= {field_name, *(getattr(field, "args", None) or ())}
    return types, names


def assert_names_only_what_was_written(message: str, schema: GraphQLSchema, *written: Any) -> None:
    types, names = schema_names(schema)
    client = names_in(*written)
    # A type name anywhere (graphql-core writes 'Int cannot represent …' unquoted) …
    assert not (names_in(message) & types) - client, message
    # … and any other name of the schema where graphql-core puts names: in quotes.
    assert not (names_in(*QUOTED.findall(message)) & names) - client, message


async def only_error(schema: strawberry.Schema, document: str, variables: Any) -> GraphQLError:
    result = await schema.execute(document, variable_values=variables)
    assert result.data is None
    assert result.errors is not None
    assert len(result.errors) == 1, result.errors
    return result.errors[0]


# --- through our schema ----------------------------------------------------------------

CREATE = "mutation($i: CreateTicketInput!) { createTicket(input: $i) { id } }"
FILTERED = "query($f: TicketFilter) { tickets(filter: $f) { totalCount } }"
VALID_INPUT = {"title": "a", "description": "b"}

# (document, variables, the message without introspection)
CASES = [
    # validation
    pytest.param("{ me { idd } }", None, "Cannot query field 'idd' here.", id="field-on-type"),
    pytest.param(
        '{ me { __type(name: "X") { name } } }',
        None,
        "Cannot query field '__type' here.",
        id="field-on-type-introspection",
    ),
    pytest.param(
        "{ tickets(firts: 1) { totalCount } }",
        None,
        "Unknown argument 'firts' on field 'tickets'.",
        id="unknown-argument",
    ),
    pytest.param(
        "{ me }", None, "Field 'me' must have a selection of subfields.", id="no-subfields"
    ),
    pytest.param(
        "{ tickets { edges } }",
        None,
        "Field 'edges' must have a selection of subfields.",
        id="no-subfields-of-a-list",
    ),
    pytest.param(
        "{ me { email { x } } }",
        None,
        "Field 'email' must not have a selection.",
        id="leaf-selection",
    ),
    pytest.param(
        "mutation { createTicket { id } }",
        None,
        "Field 'createTicket' is missing a required argument.",
        id="required-argument",
    ),
    pytest.param(
        "{ me { id @skip } }",
        None,
        "Directive '@skip' is missing a required argument.",
        id="required-directive-argument",
    ),
    pytest.param(
        "{ me { ... on Ticket { id } } }",
        None,
        "Fragment on 'Ticket' cannot be spread here.",
        id="inline-fragment-spread",
    ),
    pytest.param(
        "{ me { ...F } } fragment F on Ticket { id }",
        None,
        "Fragment 'F' cannot be spread here.",
        id="fragment-spread",
    ),
    pytest.param(
        "query($a: Int) { ticket(id: $a) { id } }",
        None,
        "Variable '$a' of type 'Int' cannot be used in this position.",
        id="variable-position",
    ),
    # literals
    pytest.param(
        'mutation { createTicket(input: {title: "a"}) { id } }',
        None,
        'A required input field is missing, found: { title: "a" }.',
        id="literal-required-field",
    ),
    pytest.param(
        "{ tickets(filter: {statuss: OPEN}) { totalCount } }",
        None,
        "Unknown input field 'statuss', found: { statuss: OPEN }.",
        id="literal-unknown-field",
    ),
    pytest.param(
        "{ tickets(filter: 3) { totalCount } }",
        None,
        "Value 3 is not valid here.",
        id="literal-object",
    ),
    pytest.param(
        '{ tickets(first: "x") { totalCount } }',
        None,
        'Value "x" is not valid here.',
        id="literal-int",
    ),
    pytest.param(
        "{ tickets(first: 99999999999) { totalCount } }",
        None,
        "Value 99999999999 is not valid here.",
        id="literal-int-range",
    ),
    pytest.param(
        "{ ticket(id: 1.5) { id } }", None, "Value 1.5 is not valid here.", id="literal-id"
    ),
    pytest.param(
        "{ tickets(after: 5) { totalCount } }",
        None,
        "Value 5 is not valid here.",
        id="literal-string",
    ),
    pytest.param(
        '{ me { id @skip(if: "yes") } }',
        None,
        'Value "yes" is not valid here.',
        id="literal-boolean",
    ),
    pytest.param(
        "{ ticket(id: null) { id } }", None, "Value null is not valid here.", id="literal-null"
    ),
    pytest.param(
        "{ tickets(filter: {status: [OPN]}) { totalCount } }",
        None,
        "Value 'OPN' is not valid here.",
        id="literal-enum-value",
    ),
    pytest.param(
        '{ logs(minLevel: "INFO") { edges { cursor } } }',
        None,
        'Value "INFO" is not valid here.',
        id="literal-enum-kind",
    ),
    pytest.param(
        'query($f: Int = "x") { tickets(first: $f) { totalCount } }',
        None,
        'Value "x" is not valid here.',
        id="variable-default",
    ),
    # variables
    pytest.param(
        CREATE,
        {"i": {"title": "a"}},
        "Variable '$i' has invalid value: A required input field is missing,"
        " found: {'title': 'a'}.",
        id="variable-required-field",
    ),
    pytest.param(
        FILTERED,
        {"f": {"statuss": ["OPEN"]}},
        "Variable '$f' has invalid value: Unknown input field 'statuss',"
        " found: {'statuss': ['OPEN']}.",
        id="variable-unknown-field",
    ),
    pytest.param(
        CREATE,
        {"i": 5},
        "Variable '$i' has invalid value: Value 5 is not valid here.",
        id="variable-object",
    ),
    pytest.param(
        CREATE,
        {"i": {**VALID_INPUT, "title": 5}},
        "Variable '$i' has invalid value at .title: Value 5 is not valid here.",
        id="variable-string",
    ),
    pytest.param(
        CREATE,
        {"i": {**VALID_INPUT, "title": None}},
        "Variable '$i' has invalid value at .title: Value null is not valid here.",
        id="variable-null-field",
    ),
    pytest.param(
        CREATE,
        {"i": None},
        "Variable '$i' has invalid value: Value null is not valid here.",
        id="variable-null",
    ),
    pytest.param(
        CREATE,
        {},
        "Variable '$i' has invalid value: A value is required here.",
        id="variable-missing",
    ),
    pytest.param(
        CREATE,
        {"i": {**VALID_INPUT, "priority": "HUGE"}},
        "Variable '$i' has invalid value at .priority: Value 'HUGE' is not valid here.",
        id="variable-enum-value",
    ),
    pytest.param(
        FILTERED,
        {"f": {"status": 5}},
        "Variable '$f' has invalid value at .status: Value 5 is not valid here.",
        id="variable-enum-kind",
    ),
    pytest.param(
        "query($f: Int) { tickets(first: $f) { totalCount } }",
        {"f": "x"},
        "Variable '$f' has invalid value: Value 'x' is not valid here.",
        id="variable-int",
    ),
]


@pytest.mark.parametrize(("document", "variables", "expected"), CASES)
async def test_without_introspection_messages_name_only_what_was_written(
    document: str, variables: dict[str, Any] | None, expected: str
) -> None:
    error = await only_error(CLOSED, document, variables)

    assert error.extensions == {"code": "BAD_USER_INPUT"}
    assert error.message == expected
    assert_names_only_what_was_written(error.message, CLOSED._schema, document, variables)


@pytest.mark.parametrize(("document", "variables", "expected"), CASES)
async def test_with_introspection_messages_stay_as_graphql_core_wrote_them(
    document: str, variables: dict[str, Any] | None, expected: str
) -> None:
    error = await only_error(OPEN, document, variables)
    closed = await only_error(CLOSED, document, variables)

    assert error.extensions == {"code": "BAD_USER_INPUT"}
    assert error.message != expected
    # graphql-core's message names a type (one the document wrote, at times: a
    # variable's own type), which the rewritten one never does.
    types, _ = schema_names(OPEN._schema)
    assert names_in(error.message) & types, error.message
    assert (closed.locations, closed.path) == (error.locations, error.path)


async def test_messages_that_name_only_what_was_written_are_kept() -> None:
    kept = {
        "{ me { ...Nope } }": "Unknown fragment 'Nope'.",
        "query($a: Foo) { ticket(id: $a) { id } }": "Unknown type 'Foo'.",
        "{ me { x: id x: email } }": "Fields 'x' conflict because 'id' and 'email' are different"
        " fields. Use different aliases on the fields to fetch both if this was intentional.",
        "{ me { id": "Syntax Error: Expected Name, found <EOF>.",
        "{ __schema { queryType { name } } }": "GraphQL introspection has been disabled, but the"
        " requested query contained the field '__schema'.",
    }
    for document, message in kept.items():
        result = await CLOSED.execute(document)
        assert result.errors is not None
        assert result.errors[0].message == message


# --- forms our schema cannot produce: graphql-core's and strawberry's own --------------

GRAPHQL_SCHEMA = build_sdl_schema(
    """
    directive @defer(if: Boolean! = true, label: String) on FRAGMENT_SPREAD | INLINE_FRAGMENT
    directive @stream(if: Boolean! = true, label: String, initialCount: Int = 0) on FIELD
    interface Node { id: ID }
    type Apple implements Node { id: ID, size: Int, seeds: [Int] }
    type Brick implements Node { id: ID, size: String }
    input Pick @oneOf { apple: Int, brick: String }
    type Query { node: Node, apple: Apple, pick(p: Pick!): Int }
    type Mutation { apple: Apple, choose(p: Pick): Int }
    type Subscription { apples: [Apple] }
    """
)

VALIDATION_FORMS = [
    pytest.param(
        "{ node { ... on Apple { size } ... on Brick { size } } }",
        "Fields 'size' conflict because they return conflicting types."
        " Use different aliases on the fields to fetch both if this was intentional.",
        id="conflicting-types",
    ),
    pytest.param(
        "{ apple { size @stream } }",
        "Stream directive cannot be used on non-list field 'size'.",
        id="stream-on-non-list",
    ),
    pytest.param(
        "mutation { ... @defer { apple { id } } }",
        "Defer directive cannot be used on the root mutation type.",
        id="defer-on-root",
    ),
    pytest.param(
        '{ pick(p: {apple: 1, brick: "x"}) }',
        "Exactly one input field must be given here, and its value must not be null.",
        id="one-of-literal",
    ),
    pytest.param(
        "mutation M($v: Int) { choose(p: {apple: $v}) }",
        "Variable '$v' must be non-nullable to be used in this position.",
        id="one-of-variable",
    ),
    pytest.param(
        "{ ...F } fragment F($n: Int!) on Query { apple { id } }",
        "Fragment 'F' is missing a required argument.",
        id="fragment-argument",
    ),
]


@pytest.mark.parametrize(("document", "expected"), VALIDATION_FORMS)
def test_graphql_cores_other_validation_forms(document: str, expected: str) -> None:
    parsed = parse(document, experimental_fragment_arguments=True)
    messages = [error.message for error in validate(GRAPHQL_SCHEMA, parsed)]

    assert expected in [schema_free(message) for message in messages], messages
    assert_names_only_what_was_written(expected, GRAPHQL_SCHEMA, document)


def test_graphql_cores_argument_and_variable_forms_at_run_time() -> None:
    pick = GRAPHQL_SCHEMA.query_type.fields["pick"]  # type: ignore[union-attr]

    def argument_error(document: str, variables: dict[str, Any]) -> str:
        operation = parse(document).definitions[0]
        coerced = get_variable_values(
            GRAPHQL_SCHEMA,
            operation.variable_definitions or (),  # type: ignore[attr-defined]
            variables,
        )
        assert not isinstance(coerced, list)
        field = operation.selection_set.selections[0]  # type: ignore[attr-defined]
        with pytest.raises(GraphQLError) as raised:
            get_argument_values(pick, field, coerced)
        return raised.value.message

    def variable_error(variables: dict[str, Any]) -> str:
        operation = parse("query($p: Pick!) { pick(p: $p) }").definitions[0]
        errors = get_variable_values(
            GRAPHQL_SCHEMA,
            operation.variable_definitions or (),  # type: ignore[attr-defined]
            variables,
        )
        assert isinstance(errors, list)
        return errors[0].message

    one_field = "Exactly one input field must be given here, and its value must not be null."
    expected = {
        argument_error("query($v: Int) { pick(p: {apple: $v}) }", {}): "Argument 'p' has"
        " invalid value: Variable '$v' provided to field 'apple' must provide a value.",
        argument_error("query($v: Int) { pick(p: {apple: $v}) }", {"v": None}): "Argument 'p'"
        " has invalid value: Variable '$v' provided to field 'apple' must not be null.",
        argument_error("{ pick }", {}): "A required argument was not provided.",
        variable_error(
            {"p": {"apple": 1, "brick": "x"}}
        ): f"Variable '$p' has invalid value: {one_field}",
        variable_error(
            {"p": {"apple": None}}
        ): f"Variable '$p' has invalid value at .apple: {one_field}",
    }
    for message, generic in expected.items():
        assert schema_free(message) == generic, message
        assert_names_only_what_was_written(generic, GRAPHQL_SCHEMA, "pick p apple brick v")


@strawberry.input(one_of=True)
class Choice:
    apple: int | None = strawberry.UNSET
    brick: str | None = strawberry.UNSET


@strawberry.input
class Basket:
    count: strawberry.Maybe[int]


@strawberry.type
class StrawberryQuery:
    @strawberry.field
    def at(self, when: datetime.datetime) -> int:
        return 1

    @strawberry.field
    def choose(self, choice: Choice) -> int:
        return 1

    @strawberry.field
    def fill(self, size: strawberry.Maybe[int] = None, basket: Basket | None = None) -> int:
        return 1

    @strawberry.field
    def plain(self) -> int:
        return 1

    @strawberry.field
    def refuse(self) -> int:
        raise InvalidInput("basket", "No 'Basket' for you.")


STRAWBERRY_FORMS = [
    pytest.param('{ at(when: "nope") }', None, 'Value "nope" is not valid here.', id="scalar"),
    pytest.param(
        "query($w: DateTime!) { at(when: $w) }",
        {"w": 5},
        "Variable '$w' has invalid value: Value \"5\" is not valid here.",
        id="scalar-variable",
    ),
    pytest.param(
        '{ choose(choice: {apple: 1, brick: "x"}) }',
        None,
        "Exactly one input field must be given here.",
        id="one-of-keys",
    ),
    pytest.param(
        "{ choose(choice: {apple: null}) }",
        None,
        "Field 'apple' must not be null.",
        id="one-of-null",
    ),
    pytest.param(
        "query($v: Int) { choose(choice: {apple: $v}) }",
        None,
        "Variable '$v' must be non-nullable to be used in this position.",
        id="one-of-variable",
    ),
    pytest.param(
        "{ fill(size: null) }", None, "Argument 'size' must not be null.", id="maybe-argument"
    ),
    pytest.param(
        "{ fill(basket: {count: null}) }", None, "Field 'count' must not be null.", id="maybe-field"
    ),
]


@pytest.mark.parametrize(("document", "variables", "expected"), STRAWBERRY_FORMS)
async def test_strawberrys_forms(document: str, variables: Any, expected: str) -> None:
    schema = strawberry.Schema(StrawberryQuery)
    result = await schema.execute(document, variable_values=variables)
    messages = [error.message for error in result.errors or []]

    assert expected in [schema_free(message) for message in messages], messages
    assert_names_only_what_was_written(expected, schema._schema, document, variables)


# --- the last check: a form nobody rewrote, and errors that are ours ---------------------


class RefusePlainFields(ValidationRule):
    """A rule whose message no rewrite knows, naming a type the document may not have written."""

    def enter_field(self, node: FieldNode, *_args: Any) -> None:
        if node.name.value == "plain":
            parent = self.context.get_parent_type()
            self.report_error(GraphQLError(f"No plain fields on '{parent}'.", node))


LEAKY = strawberry.Schema(
    StrawberryQuery,
    extensions=[ErrorCodesWithoutSchema, lambda: AddValidationRules([RefusePlainFields])],
)


async def test_a_message_that_still_names_an_unwritten_schema_name_becomes_generic() -> None:
    unwritten = await only_error(LEAKY, "{ plain }", None)
    written = await only_error(LEAKY, "query StrawberryQuery { plain }", None)

    assert unwritten.message == GENERIC_MESSAGE
    assert unwritten.extensions == {"code": "BAD_USER_INPUT"}
    assert unwritten.locations is not None
    assert written.message == "No plain fields on 'StrawberryQuery'."


async def test_domain_errors_and_the_operation_limits_keep_their_messages() -> None:
    # Ours, not graphql-core's: left as we wrote them, even when they quote a name of
    # the schema the document did not write (here 'Basket'), and so are the limits'.
    mine = await LEAKY.execute("{ refuse }")
    assert [(e.message, e.extensions) for e in mine.errors or []] == [
        ("No 'Basket' for you.", {"code": "BAD_USER_INPUT", "field": "basket"})
    ]
    costly = (
        "{ tickets(first: 100) { edges { node { messages(first: 100) { edges { cursor } } } } } }"
    )
    assert (await only_error(CLOSED, costly, None)).message.startswith("The operation could cost")
