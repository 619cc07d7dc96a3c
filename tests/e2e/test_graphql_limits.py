"""Operation limits through a real server and a real client: depth, aliases, tokens, cost;
introspection and name suggestions."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.conftest import ServerFactory
from tests.e2e.helpers_live import (
    TRANSPORT_WS,
    both_protocols,
    init_frame,
    raw_socket,
    receive_frame,
    send_frame,
    start_frame,
)
from tests.support.client import GraphQLClient, Result
from tests.support.server import Server

INBOX = """
query Inbox($first: Int, $messages: Int) {
  tickets(first: $first) {
    totalCount
    edges { node { id title status owner { id displayName }
      messages(first: $messages) { edges { node { id body author { id displayName } } } } } }
  }
}
"""


def refused(result: Result, starts: str) -> None:
    assert result.data is None
    assert result.codes == ["BAD_USER_INPUT"], result.errors
    assert result.errors[0]["message"].startswith(starts), result.errors


async def test_the_default_limits_refuse_a_deep_a_wide_and_a_costly_operation(
    client: GraphQLClient,
) -> None:
    # depth: 13 nested fields (the limit looks at the document before validation)
    thirteen = "{ " + "a { " * 12 + "id" + " }" * 12 + " }"
    refused(await client.execute(thirteen), "The operation is nested 13 fields deep")
    # aliases: 31, most of them inside a fragment spread twice
    fifteen = " ".join(f"a{n}: __typename" for n in range(15))
    aliases = "query { ...F ...F last: __typename } fragment F on Query { " + fifteen + " }"
    refused(await client.execute(aliases), "The operation uses 31 aliases")
    # tokens: more than 1000 (short ones pass the length limit)
    refused(await client.execute("{ " + "a " * 1001 + "}"), "Syntax Error")
    # cost: 100 tickets of 100 messages each, by literal and by variable
    literal = INBOX.replace("($first: Int, $messages: Int)", "")
    literal = literal.replace("$first", "100").replace("$messages", "100")
    refused(await client.execute(literal), "The operation could cost")
    refused(
        await client.execute(INBOX, {"first": 100, "messages": 100}), "The operation could cost"
    )


async def test_an_ordinary_inbox_query_is_within_the_limits(user_client: GraphQLClient) -> None:
    # 20 tickets of 50 messages (the schema's defaults) is what a front end asks
    defaults = await user_client.execute(INBOX)
    explicit = await user_client.execute(INBOX, {"first": 30, "messages": 20})

    assert defaults.ok()["tickets"]["totalCount"] == 0
    assert explicit.ok()["tickets"]["edges"] == []


async def test_the_limits_are_configurable(make_server: ServerFactory) -> None:
    server = make_server(
        "embedded",
        MAX_QUERY_DEPTH="3",
        MAX_QUERY_ALIASES="1",
        MAX_QUERY_TOKENS="40",
        MAX_QUERY_COST="100",
        MAX_QUERY_LENGTH="200",
    )
    async with GraphQLClient(server.graphql_url) as client:
        assert (await client.execute("{ configuration { updatedBy { id } } }")).ok()
        refused(
            await client.execute("{ tickets { edges { node { id } } } }"),
            "The operation is nested 4 fields deep",
        )
        assert (await client.execute("{ a: __typename }")).ok()
        refused(await client.execute("{ a: __typename b: __typename }"), "The operation uses 2")
        refused(await client.execute("{ " + "a " * 40 + "}"), "Syntax Error")
        assert (await client.execute("{ logs(first: 20) { edges { cursor } } }")).codes == [
            "UNAUTHENTICATED"  # within the cost limit, so it ran (and needs a sign-in)
        ]
        refused(
            await client.execute("{ logs(first: 60) { edges { cursor } } }"),
            "The operation could cost 121; at most 100",
        )
    padded = await post(server, "{ __typename } # " + "x" * 184)
    assert padded.json()["errors"][0]["message"].startswith("The document is 201 characters")


async def test_with_introspection_on_errors_suggest_names(server: Server) -> None:
    async with GraphQLClient(server.graphql_url) as client:
        schema = await client.execute("{ __schema { queryType { name } } }")
        typo = await client.execute("{ me { idd } }")

    assert schema.ok()["__schema"]["queryType"]["name"] == "Query"
    assert "Did you mean 'id'?" in typo.errors[0]["message"]


async def test_without_introspection_nothing_describes_the_schema(
    make_server: ServerFactory,
) -> None:
    server = make_server("embedded", INTROSPECTION="false")
    filtered = "query($f: TicketFilter) { tickets(filter: $f) { totalCount } }"
    probes: list[tuple[str, dict[str, Any] | None]] = [
        ("{ me { idd } }", None),
        ("{ tickets(firts: 1) { totalCount } }", None),
        ("{ tickets(filter: {status: [OPN]}) { totalCount } }", None),
        (filtered, {"f": {"status": ["OPN"]}}),
        (filtered, {"f": {"statuss": ["OPEN"]}}),
    ]
    async with GraphQLClient(server.graphql_url) as client:
        introspection = await client.execute("{ __schema { types { name } } }")
        by_type = await client.execute('{ __type(name: "User") { fields { name } } }')
        typename = await client.execute("{ __typename }")
        errors = [await client.execute(document, variables) for document, variables in probes]

    for result in (introspection, by_type):
        assert result.data is None
        assert set(result.codes) == {"BAD_USER_INPUT"}
        assert "introspection has been disabled" in result.errors[0]["message"]
    assert typename.ok() == {"__typename": "Query"}
    for result in errors:
        assert result.codes == ["BAD_USER_INPUT"], result.errors
        assert "Did you mean" not in result.errors[0]["message"], result.errors


# --- what validation and parsing cost -----------------------------------------------------


def repeated(unit: str, times: int) -> str:
    # A new operation name each time, as an attacker would: no cache has seen it.
    return f"query Q{uuid.uuid4().hex} {{ " + " ".join([unit] * times) + " }"


async def post(server: Server, document: str) -> httpx.Response:
    """The document exactly as written (gql would send its own printing of it)."""
    async with httpx.AsyncClient(timeout=30) as http:
        return await http.post(
            server.graphql_url,
            json={"query": document},
            headers={"Accept": "application/graphql-response+json"},
        )


async def test_repeated_and_conflicting_fields_are_validated_not_given_up(
    make_server: ServerFactory,
) -> None:
    # The attack documents are ~2,000 tokens: the token limit that was the default.
    server = make_server("embedded", MAX_QUERY_TOKENS="2000")
    async with GraphQLClient(server.graphql_url) as client:
        # graphql-core's rule compared 495 fields pair by pair for ~1 s, then refused
        # with "Validation aborted."; merged once, they are valid
        repeated_495 = await client.execute(repeated("me { id }", 495))
        # it compared all 24,090 pairs, then reported 100 conflicts (and a 101st error
        # saying it stopped); 10 say enough
        fields = " ".join(f"tickets(first: {n}) {{ totalCount }}" for n in range(220))
        conflicting = await client.execute(f"query Q{uuid.uuid4().hex} {{ {fields} }}")

    assert repeated_495.ok() == {"me": None}
    assert conflicting.data is None
    assert set(conflicting.codes) == {"BAD_USER_INPUT"}
    assert len(conflicting.errors) == 10
    assert all("they have differing arguments" in e["message"] for e in conflicting.errors)


async def test_a_document_over_the_length_limit_is_refused(server: Server) -> None:
    # 16,384 characters by default; a comment is no token, so the token limit
    # alone let ~1 MiB of them through to the parser.
    within = "{ __typename } # " + "x" * (16_384 - 17)
    over = within + "x"

    accepted = await post(server, within)
    refusal = await post(server, over)

    assert accepted.json() == {"data": {"__typename": "Query"}}
    assert refusal.status_code == 400
    refused_body = refusal.json()
    assert "data" not in refused_body
    [error] = refused_body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert error["message"] == (
        "The document is 16385 characters long; at most 16384 are allowed. "
        "Send long values (a ticket's description, a message) as variables."
    )


@both_protocols
async def test_over_websocket_a_document_over_the_length_limit_is_refused_in_band(
    server: Server, protocol: str
) -> None:
    too_long = "subscription { configurationUpdated { version } } # " + "x" * 16_384

    async with raw_socket(server, protocol) as socket:
        await send_frame(socket, init_frame(None))
        assert (await receive_frame(socket))["type"] == "connection_ack"
        await send_frame(socket, start_frame(protocol, "long", too_long))
        refusal = await receive_frame(socket)
        # the socket stays open and serves the next operation
        await send_frame(socket, start_frame(protocol, "next", too_long[:60]))
        following = await receive_frame(socket)

    assert (refusal["id"], refusal["type"]) == ("long", "error")
    payload = refusal["payload"]
    [error] = payload if protocol == TRANSPORT_WS else [payload]
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert error["message"].startswith("The document is 16436 characters long")
    assert following["id"] == "next"
