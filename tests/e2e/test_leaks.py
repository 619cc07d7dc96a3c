"""Nothing left behind: subscribe-and-disconnect cycles leave no task and no Redis channel."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
from gql import Client, GraphQLRequest
from redis.asyncio import Redis

from tests.conftest import ServerFactory
from tests.support.client import GraphQLClient, sign_up
from tests.support.server import Server
from tests.support.sockets import socket_transport
from ticketing import gc_tuning

CYCLES = 1000
AT_ONCE = 10  # below WS_MAX_CONNECTIONS_PER_USER (20): a slot frees a moment after close
CREATE = 'mutation { createTicket(input: {title: "leaks", description: "d"}) { id } }'
MESSAGES = "subscription($id: ID!) { messageAdded(ticketId: $id) { id } }"
CONFIGURATION = "subscription { configurationUpdated { version } }"


async def _diagnostics(server: Server) -> dict[str, Any]:
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{server.base_url}/diagnostics")
    body: dict[str, Any] = response.json()
    return body


async def _channels(redis_url: str, prefix: str) -> list[str]:
    redis = Redis.from_url(redis_url, decode_responses=True)
    try:
        found: list[str] = await redis.pubsub_channels(f"{prefix}*")
    finally:
        await redis.aclose()
    return sorted(found)


@contextlib.asynccontextmanager
async def _subscribed(server: Server, token: str, ticket_id: str) -> AsyncIterator[None]:
    """A socket with two subscriptions open; leaving drops it without a goodbye."""
    transport = socket_transport(server, token)
    async with Client(transport=transport) as session:
        streams = [
            session.subscribe(GraphQLRequest(MESSAGES, variable_values={"id": ticket_id})),
            session.subscribe(GraphQLRequest(CONFIGURATION)),
        ]
        waits = [asyncio.ensure_future(anext(stream)) for stream in streams]
        await asyncio.sleep(0.05)  # the server starts both subscriptions meanwhile
        try:
            yield
        finally:
            for wait in waits:
                wait.cancel()
                with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                    await wait


async def _one_cycle(server: Server, token: str, ticket_id: str) -> None:
    async with _subscribed(server, token, ticket_id):
        pass


async def _settled(server: Server, baseline: int) -> dict[str, Any]:
    """The diagnostics once the server has finished tearing down (or after 15 s)."""
    stats = await _diagnostics(server)
    for _ in range(150):
        broker = stats["broker"]
        if stats["tasks"] <= baseline and broker["listeners"] == broker["upstream_channels"] == 0:
            break
        await asyncio.sleep(0.1)
        stats = await _diagnostics(server)
    return stats


async def test_a_thousand_subscribe_and_disconnect_cycles_leave_nothing_behind(
    make_server: ServerFactory,
) -> None:
    # given a server on MariaDB and Redis, a user and a ticket
    server = make_server("mariadb", EXPOSE_DIAGNOSTICS="true")
    prefix = server.env["REDIS_PREFIX"]
    async with GraphQLClient(server.graphql_url) as user:
        await sign_up(user, "leaks@example.com")
        ticket_id = (await user.execute(CREATE)).ok()["createTicket"]["id"]
        assert user.token is not None
        token = user.token
    before = await _diagnostics(server)
    channels_before = await _channels(server.env["REDIS_URL"], prefix)
    # (the counts are the serving process's own, and it runs with the collector
    # tuned for serving: gc_tuning.py)
    assert before["pid"] == server.pid
    assert before["gc"]["thresholds"] == list(gc_tuning.THRESHOLDS)
    assert before["gc"]["frozen"] > 10_000
    # (while a client is subscribed, the counters do see it)
    async with _subscribed(server, token, ticket_id):
        during = await _diagnostics(server)
        channels_during = await _channels(server.env["REDIS_URL"], prefix)
    assert during["broker"]["listeners"] == 2
    assert during["tasks"] > before["tasks"]
    assert f"{prefix}ticket.{ticket_id}.messages" in channels_during
    assert f"{prefix}configuration" in channels_during

    # when clients subscribe and vanish a thousand times
    for _ in range(CYCLES // AT_ONCE):
        await asyncio.gather(*(_one_cycle(server, token, ticket_id) for _ in range(AT_ONCE)))
    after = await _settled(server, before["tasks"])
    channels_after = await _channels(server.env["REDIS_URL"], prefix)

    # then the server holds no more tasks, listeners or channels than before
    assert after["tasks"] <= before["tasks"], (before, after)
    assert (
        after["broker"]
        == before["broker"]
        == {
            "listeners": 0,
            "channels": 0,
            "upstream_channels": 0,
        }
    )
    assert channels_after == channels_before == [f"{prefix}broker.keepalive"]
