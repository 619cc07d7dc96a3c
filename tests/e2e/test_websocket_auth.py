"""WebSocket authentication: `connection_init` carries the token on both sub-protocols."""

from __future__ import annotations

import json

import pytest
import websockets
from gql import Client, GraphQLRequest
from gql.transport.exceptions import (
    TransportConnectionFailed,
    TransportQueryError,
    TransportServerError,
)
from gql.transport.websockets import WebsocketsTransport

from tests.support.client import GraphQLClient, sign_up
from tests.support.server import Server
from tests.support.sockets import socket_transport

ME = "query { me { email } }"
LEGACY_WS = WebsocketsTransport.APOLLO_SUBPROTOCOL  # graphql-ws


async def test_a_valid_token_in_connection_init_signs_the_socket_in(
    client: GraphQLClient, server: Server, unique_email: str
) -> None:
    await sign_up(client, unique_email)

    async with Client(transport=socket_transport(server, client.token)) as session:
        result = await session.execute(GraphQLRequest(ME))

    assert result == {"me": {"email": unique_email.lower()}}


async def test_a_socket_without_a_token_opens_anonymous(server: Server) -> None:
    async with Client(transport=socket_transport(server, None)) as session:
        result = await session.execute(GraphQLRequest(ME))

    assert result == {"me": None}


async def test_a_bad_token_closes_a_graphql_transport_ws_socket_with_4403(server: Server) -> None:
    with pytest.raises(TransportConnectionFailed) as failure:
        async with Client(transport=socket_transport(server, "not-a-token")) as session:
            await session.execute(GraphQLRequest(ME))

    closed = failure.value.__cause__
    assert isinstance(closed, websockets.ConnectionClosed)
    assert closed.rcvd is not None
    assert closed.rcvd.code == 4403


async def test_a_bad_token_is_refused_on_the_legacy_protocol(server: Server) -> None:
    with pytest.raises(TransportServerError):
        async with Client(transport=socket_transport(server, "not-a-token", LEGACY_WS)) as session:
            await session.execute(GraphQLRequest("subscription { __typename }"))


async def test_the_legacy_protocol_closes_with_4403_too(server: Server) -> None:
    # gql reports the connection_error payload; the close code needs the raw socket.
    async with websockets.connect(server.ws_url, subprotocols=[LEGACY_WS]) as socket:
        await socket.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": "Bearer bad"}})
        )
        refusal = json.loads(await socket.recv())
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await socket.recv()

    assert refusal["type"] == "connection_error"
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403


async def test_a_logged_out_token_is_refused_at_connection_init(
    client: GraphQLClient, server: Server, unique_email: str
) -> None:
    await sign_up(client, unique_email)
    token = client.token
    await client.execute("mutation { logOut }")

    with pytest.raises(TransportConnectionFailed) as failure:
        async with Client(transport=socket_transport(server, token)) as session:
            await session.execute(GraphQLRequest(ME))

    closed = failure.value.__cause__
    assert isinstance(closed, websockets.ConnectionClosed)
    assert closed.rcvd is not None
    assert closed.rcvd.code == 4403


async def test_a_query_on_an_open_socket_after_log_out_is_unauthenticated(
    client: GraphQLClient, server: Server, unique_email: str
) -> None:
    # every operation checks its session, also on a socket signed in before
    await sign_up(client, unique_email)
    async with Client(transport=socket_transport(server, client.token)) as session:
        before = await session.execute(GraphQLRequest(ME))
        (await client.execute("mutation { logOut }")).ok()
        with pytest.raises(TransportQueryError) as after:
            await session.execute(GraphQLRequest(ME))

    assert before == {"me": {"email": unique_email.lower()}}
    assert after.value.errors is not None
    assert [error["extensions"]["code"] for error in after.value.errors] == ["UNAUTHENTICATED"]
