"""The WebSocket sub-protocols' own rules: close codes, the init timeout, the subscription cap.

gql hides close codes and frame order, so these tests speak raw frames.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from tests.conftest import BACKENDS, ServerFactory
from tests.e2e.helpers_live import (
    LEGACY_WS,
    TRANSPORT_WS,
    both_protocols,
    close_code,
    data_type,
    init_frame,
    raw_socket,
    receive_frame,
    send_frame,
    start_frame,
)
from tests.e2e.helpers_tickets import SEND_MESSAGE, create_ticket, fresh_email
from tests.support.client import GraphQLClient, sign_up
from tests.support.server import Server
from ticketing.graphql.ws_messages import MAX_OPERATION_ID_LENGTH

INIT_TIMEOUT_SECONDS = 1
MAX_SUBSCRIPTIONS = 2
CONTRACT_CODES = {
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "NOT_FOUND",
    "BAD_USER_INPUT",
    "CONFLICT",
    "RATE_LIMITED",
    "INTERNAL_SERVER_ERROR",
}
CONFIGURATION_UPDATED = "subscription { configurationUpdated { version } }"
MESSAGE_ADDED = """
subscription MessageAdded($ticketId: ID!, $after: ID) {
  messageAdded(ticketId: $ticketId, after: $after) { id body }
}
"""


@pytest.fixture(scope="module", params=BACKENDS)
def strict(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A server of our own with a 1 s init timeout and 2 subscriptions per socket."""
    factory = ServerFactory(request, tmp_path_factory)
    yield factory(
        request.param,
        WS_CONNECTION_INIT_TIMEOUT_SECONDS=str(INIT_TIMEOUT_SECONDS),
        WS_MAX_SUBSCRIPTIONS_PER_CONNECTION=str(MAX_SUBSCRIPTIONS),
    )
    factory.stop_all()


@both_protocols
async def test_subscribing_before_connection_init_closes_with_4401(
    server: Server, protocol: str
) -> None:
    # `subscribe` on graphql-transport-ws, `start` on the legacy graphql-ws
    async with raw_socket(server, protocol) as socket:
        await send_frame(socket, start_frame(protocol, "1", CONFIGURATION_UPDATED))
        code = await close_code(socket)

    assert code == 4401


@both_protocols
async def test_no_connection_init_in_time_closes_with_4408(strict: Server, protocol: str) -> None:
    async with raw_socket(strict, protocol) as socket:
        opened = time.monotonic()
        code = await close_code(socket, within=INIT_TIMEOUT_SECONDS + 5)
        waited = time.monotonic() - opened

    assert code == 4408
    assert INIT_TIMEOUT_SECONDS - 0.2 <= waited < INIT_TIMEOUT_SECONDS + 2


@both_protocols
async def test_a_socket_initialised_in_time_outlives_the_timeout(
    strict: Server, protocol: str
) -> None:
    async with raw_socket(strict, protocol) as socket:
        await send_frame(socket, init_frame(None))
        ack = await receive_frame(socket)
        # when: the timeout passes
        await asyncio.sleep(INIT_TIMEOUT_SECONDS + 0.5)
        # then: the socket still serves (an anonymous subscription is refused with a code)
        await send_frame(socket, start_frame(protocol, "1", CONFIGURATION_UPDATED))
        answer = await receive_frame(socket)

    assert ack["type"] == "connection_ack"
    assert answer["id"] == "1"
    assert answer["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@both_protocols
async def test_a_second_connection_init_closes_with_4429(server: Server, protocol: str) -> None:
    async with raw_socket(server, protocol) as socket:
        await send_frame(socket, init_frame(None))
        ack = await receive_frame(socket)
        await send_frame(socket, init_frame(None))
        code = await close_code(socket)

    assert ack == {"type": "connection_ack"}
    assert code == 4429


@both_protocols
@pytest.mark.parametrize("first_init", ["anonymous", "another-user"])
async def test_a_second_connection_init_never_makes_the_socket_its_users(
    server: Server, protocol: str, first_init: str
) -> None:
    # given: the owner's ticket with two messages, and a socket opened as someone else
    async with GraphQLClient(server.graphql_url) as owner:
        await sign_up(owner, fresh_email())
        ticket_id = (await create_ticket(owner))["id"]
        # with `after`, the owner's subscription replays "second" at once
        watch = {"ticketId": ticket_id, "after": await send(owner, ticket_id, "first")}
        await send(owner, ticket_id, "second")
        first_token = None if first_init == "anonymous" else await _new_user_token(server)
        async with raw_socket(server, protocol) as socket:
            await send_frame(socket, init_frame(first_token))
            ack = await receive_frame(socket)
            # when: a second connection_init with the owner's token, then the owner's subscription
            await send_frame(socket, init_frame(owner.token))
            await send_frame(socket, start_frame(protocol, "1", MESSAGE_ADDED, watch))
            frames, code = await frames_until_closed(socket)

    # then: closed; no second acknowledgement, and nothing ran as the owner
    assert ack["type"] == "connection_ack"
    assert (frames, code) == ([], 4429)


async def _new_user_token(server: Server) -> str:
    async with GraphQLClient(server.graphql_url) as other:
        await sign_up(other, fresh_email())
        assert other.token is not None
        return other.token


async def frames_until_closed(
    socket: ClientConnection, within: float = 5
) -> tuple[list[dict[str, Any]], int | None]:
    """Every frame the server sends until it closes the socket, and its close code (None: open)."""
    frames: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(within):
            while True:
                frames.append(json.loads(await socket.recv()))
    except websockets.ConnectionClosed as closed:
        return frames, closed.rcvd.code if closed.rcvd is not None else None
    except TimeoutError:
        return frames, None


# strawberry's close reason quoted the id: a long one did not fit in a close frame
# (at most 123 bytes), and websockets raised inside the application.
@pytest.mark.parametrize(
    "operation_id", ["same", "é" * MAX_OPERATION_ID_LENGTH], ids=["short", "longest"]
)
async def test_a_duplicate_subscription_id_closes_with_4409(
    server: Server, user_client: GraphQLClient, operation_id: str
) -> None:
    logged = server.log_offset()
    async with raw_socket(server, TRANSPORT_WS) as socket:
        await send_frame(socket, init_frame(user_client.token))
        ack = await receive_frame(socket)
        await send_frame(socket, start_frame(TRANSPORT_WS, operation_id, CONFIGURATION_UPDATED))
        await send_frame(socket, start_frame(TRANSPORT_WS, operation_id, CONFIGURATION_UPDATED))
        code = await close_code(socket)

    assert ack["type"] == "connection_ack"
    assert code == 4409
    assert server.crashes_since(logged) == []


async def _third_is_refused(
    strict: Server, protocol: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Open three subscriptions on one socket; the refusal, then what the first two get."""
    async with GraphQLClient(strict.graphql_url) as owner:
        await sign_up(owner, fresh_email())
        ticket_id = (await create_ticket(owner))["id"]
        # with `after`, each subscription replays the second message once it listens
        watch = {"ticketId": ticket_id, "after": await send(owner, ticket_id, "first")}
        await send(owner, ticket_id, "second")
        async with raw_socket(strict, protocol) as socket:
            await send_frame(socket, init_frame(owner.token))
            assert (await receive_frame(socket))["type"] == "connection_ack"
            for operation_id in ("1", "2", "3"):
                await send_frame(socket, start_frame(protocol, operation_id, MESSAGE_ADDED, watch))
            answers = [await receive_frame(socket) for _ in range(3)]
            refusals = [frame for frame in answers if frame["type"] == "error"]
            replayed = [frame for frame in answers if frame["type"] != "error"]
            assert len(refusals) == 1, answers
            assert sorted(bodies(replayed)) == [("1", "second"), ("2", "second")]
            # when: a new message is sent; then both listening subscriptions get it
            await send(owner, ticket_id, "still there?")
            delivered = [await receive_frame(socket) for _ in range(2)]
    return refusals[0], delivered


def bodies(frames: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(frame["id"], frame["payload"]["data"]["messageAdded"]["body"]) for frame in frames]


async def send(client: GraphQLClient, ticket_id: str, body: str) -> str:
    variables = {"input": {"ticketId": ticket_id, "body": body}}
    return str((await client.execute(SEND_MESSAGE, variables)).ok()["sendMessage"]["id"])


@both_protocols
async def test_a_subscription_above_the_cap_is_refused_and_the_others_keep_working(
    strict: Server, protocol: str
) -> None:
    refusal, delivered = await _third_is_refused(strict, protocol)

    assert (refusal["type"], refusal["id"]) == ("error", "3")
    assert sorted((f["type"], f["id"]) for f in delivered) == [
        (data_type(protocol), "1"),
        (data_type(protocol), "2"),
    ]
    assert sorted(bodies(delivered)) == [("1", "still there?"), ("2", "still there?")]


@both_protocols
async def test_the_refusal_above_the_cap_carries_a_contract_error_code(
    strict: Server, protocol: str
) -> None:
    # "Every error in errors[] carries extensions.code" (contract, Transport)
    refusal, _ = await _third_is_refused(strict, protocol)

    payload = refusal["payload"]
    errors = payload if protocol == TRANSPORT_WS else [payload]
    assert isinstance(errors, list)
    assert errors, refusal
    for error in errors:
        assert error.get("extensions", {}).get("code") in CONTRACT_CODES, refusal


# --- malformed messages: closed with 4400, never a crash ---------------------------------------

START, STOP = "<start>", "<stop>"  # subscribe/complete, or start/stop on the legacy protocol
MISSING = object()


def start_message(**fields: object) -> dict[str, object]:
    """A valid subscribe (start), with `fields` replaced (MISSING leaves one out)."""
    return _changed({"id": "1", "type": START, "payload": {"query": CONFIGURATION_UPDATED}}, fields)


def with_payload(**fields: object) -> dict[str, object]:
    """A valid subscribe (start), its payload's `fields` replaced (MISSING leaves one out)."""
    return start_message(payload=_changed({"query": CONFIGURATION_UPDATED}, fields))


def _changed(message: dict[str, object], fields: dict[str, object]) -> dict[str, object]:
    changed = {**message, **fields}
    return {name: value for name, value in changed.items() if value is not MISSING}


def as_text(message: str | dict[str, object], protocol: str) -> str:
    if isinstance(message, str):
        return message
    types = {START: "subscribe", STOP: "complete"}
    if protocol == LEGACY_WS:
        types = {START: "start", STOP: "stop"}
    kind = message["type"]
    return json.dumps({**message, "type": types.get(str(kind), kind)})


BEFORE_INIT = [
    pytest.param('"x"', id="a-string"),
    pytest.param("1", id="a-number"),
    pytest.param("null", id="null"),
    pytest.param("[1]", id="an-array"),
    pytest.param("nope", id="not-json"),
    pytest.param("[" * 50_000 + "]" * 50_000, id="nested-too-deeply"),
    pytest.param(
        '{"type": "connection_init", "payload": {"n": ' + "9" * 5000 + "}}",
        id="a-5000-digit-number",
    ),
    pytest.param('{"type": "connection_init", "payload": {"n": NaN}}', id="nan"),
    pytest.param("{}", id="no-type"),
    pytest.param('{"type": 1}', id="type-a-number"),
    pytest.param('{"type": ["connection_init"]}', id="type-an-array"),
    pytest.param('{"type": "nope"}', id="unknown-type"),
    pytest.param('{"type": "' + "x" * 200 + '"}', id="long-unknown-type"),
    pytest.param({"type": "connection_init", "payload": "x"}, id="init-payload-a-string"),
    pytest.param({"type": "connection_init", "payload": []}, id="init-payload-an-array"),
    pytest.param({"type": "ping", "payload": "x"}, id="ping-payload-a-string"),
    pytest.param({"type": "pong", "payload": 1}, id="pong-payload-a-number"),
]
AFTER_INIT = [
    pytest.param(start_message(id=MISSING), id="start-without-id"),
    pytest.param(start_message(id=1), id="id-a-number"),
    pytest.param(start_message(id=None), id="id-null"),
    pytest.param(start_message(id=[1]), id="id-an-array"),
    pytest.param(start_message(id={}), id="id-an-object"),
    pytest.param(start_message(id=""), id="id-empty"),
    pytest.param(start_message(id="x" * (MAX_OPERATION_ID_LENGTH + 1)), id="id-too-long"),
    pytest.param(start_message(id="x" * 100_000), id="id-huge"),
    pytest.param(start_message(payload=MISSING), id="without-payload"),
    pytest.param(start_message(payload=None), id="payload-null"),
    pytest.param(start_message(payload="x"), id="payload-a-string"),
    pytest.param(start_message(payload=[1]), id="payload-an-array"),
    pytest.param(with_payload(query=MISSING), id="without-query"),
    pytest.param(with_payload(query=None), id="query-null"),
    pytest.param(with_payload(query=1), id="query-a-number"),
    pytest.param(with_payload(query=[CONFIGURATION_UPDATED]), id="query-an-array"),
    pytest.param(with_payload(variables="x"), id="variables-a-string"),
    pytest.param(with_payload(variables=[1]), id="variables-an-array"),
    pytest.param(with_payload(variables=1), id="variables-a-number"),
    pytest.param(with_payload(extensions="x"), id="extensions-a-string"),
    pytest.param(with_payload(extensions=[1]), id="extensions-an-array"),
    pytest.param(with_payload(operationName=1), id="operation-name-a-number"),
    pytest.param(with_payload(operationName={}), id="operation-name-an-object"),
    pytest.param({"type": STOP}, id="stop-without-id"),
    pytest.param({"type": STOP, "id": 1}, id="stop-id-a-number"),
    pytest.param({"type": STOP, "id": [1]}, id="stop-id-an-array"),
    pytest.param({"type": STOP, "id": {}}, id="stop-id-an-object"),
    pytest.param({"type": "next", "id": "1", "payload": {}}, id="a-server-message"),
]


async def _refused_with_4400(
    server: Server, protocol: str, message: str | dict[str, object], *, after_init: bool
) -> None:
    logged = server.log_offset()
    async with raw_socket(server, protocol) as socket:
        if after_init:
            await send_frame(socket, init_frame(None))
            assert (await receive_frame(socket))["type"] == "connection_ack"
        await socket.send(as_text(message, protocol))
        frames, code = await frames_until_closed(socket)

    assert (frames, code) == ([], 4400)
    # the server goes on serving, and logged no crash
    async with raw_socket(server, protocol) as socket:
        await send_frame(socket, init_frame(None))
        assert (await receive_frame(socket))["type"] == "connection_ack"
        await send_frame(socket, start_frame(protocol, "1", CONFIGURATION_UPDATED))
        answer = await receive_frame(socket)
    assert answer["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert server.crashes_since(logged) == []


@both_protocols
@pytest.mark.parametrize("message", BEFORE_INIT)
async def test_a_malformed_message_closes_the_socket_with_4400(
    server: Server, protocol: str, message: str | dict[str, object]
) -> None:
    await _refused_with_4400(server, protocol, message, after_init=False)


@both_protocols
@pytest.mark.parametrize("message", AFTER_INIT)
async def test_a_malformed_operation_message_closes_the_socket_with_4400(
    server: Server, protocol: str, message: dict[str, object]
) -> None:
    await _refused_with_4400(server, protocol, message, after_init=True)


@both_protocols
@pytest.mark.parametrize(
    ("query", "operation_name"),
    [
        pytest.param("", None, id="empty-query"),
        pytest.param("fragment F on Query { me { id } }", None, id="no-operation"),
        pytest.param(CONFIGURATION_UPDATED, "Nope", id="unknown-operation-name"),
    ],
)
async def test_a_document_without_the_operation_is_an_error_of_the_client(
    server: Server, protocol: str, query: str, operation_name: str | None
) -> None:
    # A well-formed message whose document has nothing to run: the operation's
    # error, BAD_USER_INPUT (it was INTERNAL_SERVER_ERROR, logged with a traceback).
    logged = server.log_offset()
    message = with_payload(query=query, operationName=operation_name)
    async with raw_socket(server, protocol) as socket:
        await send_frame(socket, init_frame(None))
        assert (await receive_frame(socket))["type"] == "connection_ack"
        await socket.send(as_text(message, protocol))
        answer = await receive_frame(socket)

    assert (answer["type"], answer["id"]) == ("error", "1")
    errors = answer["payload"] if protocol == TRANSPORT_WS else [answer["payload"]]
    assert [error["extensions"]["code"] for error in errors] == ["BAD_USER_INPUT"]
    assert server.crashes_since(logged) == []


@both_protocols
async def test_a_client_that_leaves_while_results_are_sent_leaves_no_trace_in_the_log(
    server: Server, protocol: str
) -> None:
    # given sockets that start many operations and close without reading a thing
    logged = server.log_offset()
    for _ in range(10):
        async with raw_socket(server, protocol) as socket:
            await send_frame(socket, init_frame(None))
            await receive_frame(socket)  # the ack
            for n in range(20):
                await send_frame(socket, start_frame(protocol, str(n), CONFIGURATION_UPDATED))
    # when the server has answered them and found the sockets gone
    await asyncio.sleep(1)
    # then leaving is routine: no traceback, nothing logged as an error, and it serves on
    assert server.crashes_since(logged) == []
    async with raw_socket(server, protocol) as socket:
        await send_frame(socket, init_frame(None))
        assert (await receive_frame(socket))["type"] == "connection_ack"
