"""Fan-out executes a live event once per audience, and every subscriber still sees its own view.

Through a real server (MariaDB, Redis, one worker, so that every subscriber
shares one process), on both WebSocket sub-protocols: several sessions of the
ticket's owner and several admins subscribe to the same chat; another admin
writes. The owner's subscribers must not see that admin's email, the admins
must; the server's /diagnostics show the selection ran once per audience and
the result was written straight to each socket.
"""

from __future__ import annotations

import asyncio
import itertools
from contextlib import AsyncExitStack
from typing import Any

import httpx

from tests.conftest import ServerFactory
from tests.e2e.helpers_live import LEGACY_WS, TRANSPORT_WS, LiveSubscription, fresh_token, subscribe
from tests.e2e.helpers_tickets import SEND_MESSAGE, add_admin, create_ticket, fresh_email
from tests.support.client import GraphQLClient, log_in, sign_up
from tests.support.server import Server

CHAT = """
subscription Chat($ticketId: ID!) {
  messageAdded(ticketId: $ticketId) { id body author { id displayName email } }
}
"""
SUBSCRIBERS_PER_AUDIENCE = 4


async def _diagnostics(server: Server) -> dict[str, Any]:
    async with httpx.AsyncClient() as http:
        body: dict[str, Any] = (await http.get(f"{server.base_url}/diagnostics")).json()
    return body


async def _subscribers(
    stack: AsyncExitStack, server: Server, email: str, ticket_id: str
) -> list[LiveSubscription]:
    """Half on each sub-protocol, one session each."""
    found = []
    for index in range(SUBSCRIBERS_PER_AUDIENCE):
        protocol = TRANSPORT_WS if index % 2 == 0 else LEGACY_WS
        token = await fresh_token(server, email)
        live = await subscribe(server, token, CHAT, {"ticketId": ticket_id}, protocol=protocol)
        stack.push_async_callback(live.stop)
        found.append(live)
    return found


async def test_a_chat_event_is_executed_once_per_audience_and_seen_as_each_may_see_it(
    make_server: ServerFactory,
) -> None:
    # given a server (one worker), a ticket, and a writer who is an admin
    server = make_server("mariadb", EXPOSE_DIAGNOSTICS="true")
    owner_email, writer_email, reader_email = fresh_email(), add_admin(server), add_admin(server)
    async with GraphQLClient(server.graphql_url) as owner:
        await sign_up(owner, owner_email)
        ticket_id = (await create_ticket(owner))["id"]
    async with AsyncExitStack() as stack:
        # and several sessions of the owner and of another admin on its chat
        owners = await _subscribers(stack, server, owner_email, ticket_id)
        admins = await _subscribers(stack, server, reader_email, ticket_id)
        diagnostics = [await _diagnostics(server)]

        # when: the writing admin sends two messages, one after the other
        bodies = ["Have you tried turning it off?", "And on again?"]
        sent = []
        async with GraphQLClient(server.graphql_url) as writer:
            await log_in(writer, writer_email)
            for number, body in enumerate(bodies, start=1):
                variables = {"input": {"ticketId": ticket_id, "body": body}}
                sent.append((await writer.execute(SEND_MESSAGE, variables)).ok()["sendMessage"])
                results = await asyncio.gather(*(live.wait_for(number) for live in owners + admins))
                diagnostics.append(await _diagnostics(server))

    # then: every subscriber has both, in order; the owner's without the admin's email
    owner_views = [view["messageAdded"] for r in results[:SUBSCRIBERS_PER_AUDIENCE] for view in r]
    admin_views = [view["messageAdded"] for r in results[SUBSCRIBERS_PER_AUDIENCE:] for view in r]
    for views in results:
        assert [view["messageAdded"]["id"] for view in views] == [m["id"] for m in sent]
        assert [view["messageAdded"]["body"] for view in views] == bodies
    assert {view["author"]["email"] for view in owner_views} == {None}
    assert {view["author"]["email"] for view in admin_views} == {writer_email}
    # and each message's selection ran once for the owner's sessions and once for
    # the admins, and its result reached every subscriber
    subscribers = 2 * SUBSCRIBERS_PER_AUDIENCE
    counts = [d["live_results"] for d in diagnostics]
    for before, after in itertools.pairwise(counts):
        assert after["executed"] - before["executed"] == 2, (before, after)
        handed_on = (after["reused"] - before["reused"]) + (
            after["written_directly"] - before["written_directly"]
        )
        assert handed_on == subscribers, (before, after)
    # and the second (every subscription waiting by then) was written to every
    # socket directly, without waking a subscription
    assert counts[2]["written_directly"] - counts[1]["written_directly"] == subscribers, counts
    direct = [d["fan_out"]["direct"] for d in diagnostics]
    assert direct[2] - direct[1] == subscribers, diagnostics


async def _roots_settle_at(server: Server, most: int) -> int:
    roots = -1
    for _ in range(50):
        roots = int((await _diagnostics(server))["live_results"]["roots"])
        if roots <= most:
            break
        await asyncio.sleep(0.1)
    return roots


async def test_shared_results_are_let_go_once_delivered(make_server: ServerFactory) -> None:
    # given a server with subscribers that received a few messages
    server = make_server("mariadb", EXPOSE_DIAGNOSTICS="true")
    email = fresh_email()
    async with GraphQLClient(server.graphql_url) as owner:
        await sign_up(owner, email)
        ticket_id = (await create_ticket(owner))["id"]
        async with AsyncExitStack() as stack:
            subscribers = await _subscribers(stack, server, email, ticket_id)
            for number in range(3):
                variables = {"input": {"ticketId": ticket_id, "body": f"message {number}"}}
                (await owner.execute(SEND_MESSAGE, variables)).ok()
            await asyncio.gather(*(live.wait_for(3) for live in subscribers))

            # then: only the latest event is still held (the streams wait past it)
            assert await _roots_settle_at(server, 1) <= 1

        # and once the subscribers are gone, nothing is
        assert await _roots_settle_at(server, 0) == 0
