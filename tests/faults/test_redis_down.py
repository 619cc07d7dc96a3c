"""Redis goes away and comes back: quick coded errors meanwhile, then recovery, nothing lost.

A real server on MariaDB with a Redis of its own (persistence on, like
production). While Redis is down, whatever needs it (checking a token's
session, log-in throttling) fails within a few seconds with a JSON GraphQL
error that says a backing service is unavailable, and /readyz answers 503;
what does not need it goes on working. Once Redis is back the same process
serves again by itself, and every ticket committed before is still complete.
"""

from __future__ import annotations

import asyncio

import httpx

from tests.conftest import ServerFactory
from tests.e2e.helpers_tickets import SEND_MESSAGE, create_ticket, fresh_email
from tests.faults.helpers import (
    assert_fails_cleanly,
    my_tickets,
    post,
    readyz_becomes,
    succeeds_again,
)
from tests.realtime.redis_server import RedisServer
from tests.support.client import PASSWORD, GraphQLClient, log_in, sign_up

ME = "query { me { id email } }"
LOG_IN = """
mutation LogIn($input: LogInInput!) { logIn(input: $input) { accessToken user { id } } }
"""
CREATE = """
mutation Create($input: CreateTicketInput!) { createTicket(input: $input) { id } }
"""
CONFIGURATION = "query { configuration { version ticketCategories } }"
TICKETS_BEFORE = 3
# Connection refused is immediate; the client's retries take well under a second.
NOT_READY_WITHIN = 8.0
# From Redis answering again to the server serving again, on its own.
RECOVERY_WITHIN = 15.0


async def test_redis_down_fails_fast_and_coded_then_the_server_recovers_with_nothing_lost(
    private_redis: RedisServer,
    make_server: ServerFactory,  # after private_redis: the server stops before Redis does
) -> None:
    # given a server whose Redis is our own, and a user with tickets and messages
    server = make_server("mariadb", REDIS_URL=private_redis.url)
    email = fresh_email()
    async with GraphQLClient(server.graphql_url) as user:
        await sign_up(user, email)
        for number in range(TICKETS_BEFORE):
            ticket = await create_ticket(user, f"before the outage {number}")
            sent = await user.execute(
                SEND_MESSAGE, {"input": {"ticketId": ticket["id"], "body": f"note {number}"}}
            )
            sent.ok()
        before = await my_tickets(user)
        token = user.token
    assert before["totalCount"] == TICKETS_BEFORE

    # when Redis goes away
    await asyncio.to_thread(private_redis.stop)

    # then the server says it is not ready, but still alive
    await readyz_becomes(server, 503, NOT_READY_WITHIN)
    async with httpx.AsyncClient() as http:
        assert (await http.get(f"{server.base_url}/healthz")).status_code == 200

    # and what needs Redis fails quickly with a coded, masked JSON error
    assert_fails_cleanly(await post(server, ME, token=token))
    credentials = {"input": {"email": email, "password": PASSWORD}}
    assert_fails_cleanly(await post(server, LOG_IN, credentials))
    attempt = {"input": {"title": "during the outage", "description": "lost?"}}
    assert_fails_cleanly(await post(server, CREATE, attempt, token=token))

    # and what needs only the database still works
    assert (await post(server, CONFIGURATION)).data()["configuration"]["ticketCategories"]

    # when Redis is back (same data: sessions are persisted)
    await asyncio.to_thread(private_redis.start)

    # then the same server process serves again by itself: the old token, a new log-in
    await succeeds_again(server, ME, None, token, RECOVERY_WITHIN)
    await readyz_becomes(server, 200, RECOVERY_WITHIN)
    async with GraphQLClient(server.graphql_url) as again:
        await log_in(again, email)
        # and every ticket committed before is there, complete; the refused one is not
        assert await my_tickets(again) == before
    assert "Traceback" in server.log()  # the outage was logged in full, for the operator
