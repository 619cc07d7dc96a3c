"""`ticketing serve --workers 2` on MariaDB + Redis: the workers act as one server."""

from __future__ import annotations

import asyncio

from tests.conftest import ServerFactory
from tests.support.client import GraphQLClient, sign_up

ME = "query { me { email } }"
LOG_OUT = "mutation { logOut }"


async def test_two_workers_share_sessions_and_log_out(make_server: ServerFactory) -> None:
    # given two worker processes behind one port
    server = make_server("mariadb", workers=2)
    async with GraphQLClient(server.graphql_url) as client:
        await sign_up(client, "workers@example.com")

        # when many requests (new connections, spread over the workers) use the token
        results = await asyncio.gather(
            *(_me_on_a_new_connection(server.graphql_url, client.token) for _ in range(20))
        )
        await client.execute(LOG_OUT)
        after = await asyncio.gather(
            *(_me_on_a_new_connection(server.graphql_url, client.token) for _ in range(10))
        )

    # then every worker accepts the session, and after log-out none does
    assert results == [["workers@example.com", []]] * 20
    assert [codes for _, codes in after] == [["UNAUTHENTICATED"]] * 10


async def _me_on_a_new_connection(url: str, token: str | None) -> list[object]:
    async with GraphQLClient(url, token=token) as fresh:
        result = await fresh.execute(ME)
    me = (result.data or {}).get("me") or {}
    return [me.get("email"), result.codes]
