"""Through a real server without introspection, error messages name only what the client wrote:
over HTTP and over WebSocket alike."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from graphql import build_schema

from tests.conftest import ServerFactory
from tests.support.client import GraphQLClient
from tests.support.server import Server
from tests.support.sockets import socket_transport

# The type names of the published schema, read from the SDL the front ends get.
TYPE_NAMES = set(build_schema((Path(__file__).parents[2] / "schema.graphql").read_text()).type_map)
NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")

CREATE = "mutation($i: CreateTicketInput!) { createTicket(input: $i) { id } }"
# (document, variables, the message without introspection)
PROBES: list[tuple[str, dict[str, Any] | None, str]] = [
    ("{ me { idd } }", None, "Cannot query field 'idd' here."),
    ("{ tickets(firts: 1) { totalCount } }", None, "Unknown argument 'firts' on field 'tickets'."),
    ("{ me }", None, "Field 'me' must have a selection of subfields."),
    ("{ me { email { x } } }", None, "Field 'email' must not have a selection."),
    (
        "mutation { createTicket { id } }",
        None,
        "Field 'createTicket' is missing a required argument.",
    ),
    ("{ me { ... on Ticket { id } } }", None, "Fragment on 'Ticket' cannot be spread here."),
    (
        "query($a: Int) { ticket(id: $a) { id } }",
        None,
        "Variable '$a' of type 'Int' cannot be used in this position.",
    ),
    ('{ tickets(first: "x") { totalCount } }', None, 'Value "x" is not valid here.'),
    (
        CREATE,
        {"i": {"title": "a"}},
        "Variable '$i' has invalid value: A required input field is missing,"
        " found: {'title': 'a'}.",
    ),
    (
        CREATE,
        {"i": {"title": 5, "description": "b"}},
        "Variable '$i' has invalid value at .title: Value 5 is not valid here.",
    ),
]


def unwritten_type_names(message: str, document: str, variables: dict[str, Any] | None) -> set[str]:
    written = set(NAME.findall(document + " " + str(variables or "")))
    return (set(NAME.findall(message)) & TYPE_NAMES) - written


def assert_generic(
    errors: list[dict[str, Any]], document: str, variables: Any, expected: str
) -> None:
    assert [e["extensions"]["code"] for e in errors] == ["BAD_USER_INPUT"], errors
    assert errors[0]["message"] == expected
    assert errors[0]["locations"], errors
    assert not unwritten_type_names(errors[0]["message"], document, variables)


async def test_messages_name_only_what_was_written_over_http_and_websocket(
    make_server: ServerFactory,
) -> None:
    server = make_server("embedded", INTROSPECTION="false")
    async with GraphQLClient(server.graphql_url) as client:
        results = [await client.execute(document, variables) for document, variables, _ in PROBES]
    over_socket: list[list[dict[str, Any]]] = []
    async with Client(transport=socket_transport(server, None)) as socket:
        for document, variables, _ in PROBES:
            with pytest.raises(TransportQueryError) as refused:
                await socket.execute(GraphQLRequest(document, variable_values=variables))
            over_socket.append(list(refused.value.errors or []))

    for (document, variables, expected), result, socket_errors in zip(
        PROBES, results, over_socket, strict=True
    ):
        assert result.data is None
        assert_generic(result.errors, document, variables, expected)
        assert_generic(socket_errors, document, variables, expected)


async def test_with_introspection_on_messages_name_the_schema(server: Server) -> None:
    async with GraphQLClient(server.graphql_url) as client:
        results = [await client.execute(document, variables) for document, variables, _ in PROBES]

    for (_, _, expected), result in zip(PROBES, results, strict=True):
        assert result.codes == ["BAD_USER_INPUT"]
        assert result.errors[0]["message"] != expected
        assert set(NAME.findall(result.errors[0]["message"])) & TYPE_NAMES, result.errors
