"""MariaDB restarts under a running server: quick coded errors meanwhile, then recovery.

A MariaDB of the test's own (its own data directory and port), migrated with
`ticketing migrate` as an operator would, and a real server on it. When the
database stops (a clean shutdown, or a crash), requests fail within a few
seconds with a JSON GraphQL error and /readyz answers 503. When it starts again
on the same data, the same server process (never restarted) serves again within
a bounded time: the connection pool drops its dead connections and opens new
ones. Nothing committed before is lost, and a mutation refused during the
outage left nothing behind.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from tests.e2e.helpers_tickets import SEND_MESSAGE, create_ticket, fresh_email
from tests.faults.helpers import (
    assert_fails_cleanly,
    my_tickets,
    post,
    readyz_becomes,
    succeeds_again,
)
from tests.faults.mariadb_server import MariaDBServer
from tests.support.client import PASSWORD, GraphQLClient, log_in, sign_up
from tests.support.server import Server, run_cli

# What needs the database on every request (`me` may be answered from a user
# row read in the last few seconds: USER_ROW_MAX_AGE_SECONDS).
TICKET_COUNT = "query { tickets(first: 1) { totalCount } }"
CREATE = """
mutation Create($input: CreateTicketInput!) { createTicket(input: $input) { id } }
"""
SIGN_UP = """
mutation SignUp($input: SignUpInput!) { signUp(input: $input) { accessToken } }
"""
CONFIGURATION = "query { configuration { version } }"
NOT_READY_WITHIN = 8.0
# From MariaDB answering again to the server serving again, on its own.
RECOVERY_WITHIN = 20.0
# Requests that must all succeed once recovered: more than the connections
# pooled before the outage (10 at once), so each was replaced, not just the first.
REQUESTS_AFTER_RECOVERY = 12


@pytest.mark.parametrize("how", ["shutdown", "crash"])
async def test_mariadb_restart_fails_fast_and_coded_then_the_server_recovers_by_itself(
    private_mariadb: MariaDBServer, tmp_path: Path, how: str
) -> None:
    # given a migrated database of our own, and a server on it (sessions in-process,
    # so only the database fails here)
    env = {"DATABASE_URL": private_mariadb.create_database("ticketing_restart")}
    migrated = await asyncio.to_thread(run_cli, "migrate", env=env, cwd=tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    server = Server(env, tmp_path)
    await asyncio.to_thread(server.start)
    try:
        await _outage_and_recovery(server, private_mariadb, crash=how == "crash")
    finally:
        await asyncio.to_thread(server.stop)


async def _outage_and_recovery(server: Server, mariadb: MariaDBServer, *, crash: bool) -> None:
    # given a user with a ticket and a message, and many connections in the pool
    email = fresh_email()
    async with GraphQLClient(server.graphql_url) as user:
        await sign_up(user, email)
        ticket = await create_ticket(user, "before the restart")
        sent = await user.execute(
            SEND_MESSAGE, {"input": {"ticketId": ticket["id"], "body": "still there?"}}
        )
        sent.ok()
        await asyncio.gather(*(user.execute(TICKET_COUNT) for _ in range(10)))
        before = await my_tickets(user)
        token = user.token

    # when MariaDB stops: shut down cleanly, or killed (its clients see the sockets close)
    await asyncio.to_thread(mariadb.kill if crash else mariadb.stop)

    # then the server says it is not ready, but is still alive
    await readyz_becomes(server, 503, NOT_READY_WITHIN)
    async with httpx.AsyncClient() as http:
        assert (await http.get(f"{server.base_url}/healthz")).status_code == 200

    # and requests fail quickly with a coded, masked JSON error
    assert_fails_cleanly(await post(server, TICKET_COUNT, token=token))
    attempt = {"input": {"title": "during the outage", "description": "lost?"}}
    assert_fails_cleanly(await post(server, CREATE, attempt, token=token))
    newcomer = {"input": {"email": fresh_email(), "password": PASSWORD, "displayName": "New"}}
    assert_fails_cleanly(await post(server, SIGN_UP, newcomer))
    assert_fails_cleanly(await post(server, CONFIGURATION))

    # when MariaDB starts again on the same data
    await asyncio.to_thread(mariadb.start)

    # then the same server process serves again within a bounded time
    await succeeds_again(server, TICKET_COUNT, None, token, RECOVERY_WITHIN)
    await readyz_becomes(server, 200, RECOVERY_WITHIN)
    # every time, not once: no dead connection is left in the pool
    answers = await asyncio.gather(
        *(post(server, TICKET_COUNT, token=token) for _ in range(REQUESTS_AFTER_RECOVERY))
    )
    assert [a.codes for a in answers] == [[]] * REQUESTS_AFTER_RECOVERY, answers
    async with GraphQLClient(server.graphql_url) as again:
        await log_in(again, email)
        # and the data from before is intact; the refused ticket and sign-up are not there
        assert await my_tickets(again) == before
        refused = await again.execute(
            "mutation($input: LogInInput!) { logIn(input: $input) { accessToken } }",
            {"input": {"email": newcomer["input"]["email"], "password": PASSWORD}},
        )
        assert refused.codes == ["UNAUTHENTICATED"], refused
