"""The cost limit through a real server counts `first` as it will run, however it is spelled.

The JSON bodies are written by hand, so that `1e2` and `100.0` reach the server
as the client typed them (a JSON encoder would choose its own spelling).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError

from tests.support.client import GraphQLClient
from tests.support.server import Server
from tests.support.sockets import socket_transport

# 100 tickets of 100 messages cost 30,301 when they run as 100: over the default
# MAX_QUERY_COST (10,000). Counted as the schema's defaults (20 and 50), 3,061.
NESTED = (
    "query Nested($t: Int, $m: Int) { tickets(first: $t) { edges { node { "
    "messages(first: $m) { edges { node { body } } } } } } }"
)
WITH_DEFAULTS = NESTED.replace("($t: Int, $m: Int)", "($t: Int = 100, $m: Int = 100)")

SPELLINGS = [
    pytest.param(NESTED, '{"t": 100.0, "m": 100.0}', id="float"),
    pytest.param(NESTED, '{"t": 1e2, "m": 1E2}', id="exponent"),
    pytest.param(NESTED, '{"t": 100, "m": 1.0e2}', id="int-and-float"),
    pytest.param(WITH_DEFAULTS, "{}", id="variable-defaults"),
    pytest.param(WITH_DEFAULTS, '{"t": 100.0}', id="float-and-default"),
]


async def post(server: Server, token: str | None, document: str, raw_variables: str) -> Any:
    body = f'{{"query": {json.dumps(document)}, "variables": {raw_variables}}}'
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient() as http:
        response = await http.post(server.graphql_url, content=body, headers=headers)
    return response.json()


@pytest.mark.parametrize(("document", "raw_variables"), SPELLINGS)
async def test_a_costly_first_is_refused_however_it_is_spelled(
    server: Server, user_client: GraphQLClient, document: str, raw_variables: str
) -> None:
    result = await post(server, user_client.token, document, raw_variables)

    # Refused before running: had it run, the signed-in user would get `data`.
    assert result.get("data") is None, result
    assert [e["extensions"]["code"] for e in result["errors"]] == ["BAD_USER_INPUT"]
    assert result["errors"][0]["message"].startswith("The operation could cost 30301;")


async def test_a_float_first_within_the_limit_runs(
    server: Server, user_client: GraphQLClient
) -> None:
    result = await post(server, user_client.token, NESTED, '{"t": 2.0, "m": 3e0}')

    assert "errors" not in result, result
    assert result["data"]["tickets"]["edges"] == []


async def test_a_costly_float_first_is_refused_over_websocket(
    server: Server, user_client: GraphQLClient
) -> None:
    async with Client(transport=socket_transport(server, user_client.token)) as socket:
        with pytest.raises(TransportQueryError) as refused:
            await socket.execute(GraphQLRequest(NESTED, variable_values={"t": 100.0, "m": 100.0}))

    assert refused.value.data is None
    assert refused.value.errors is not None
    assert [e["extensions"]["code"] for e in refused.value.errors] == ["BAD_USER_INPUT"]
    assert refused.value.errors[0]["message"].startswith("The operation could cost 30301;")
