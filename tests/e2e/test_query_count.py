"""No N+1: a page of tickets with owners, assignees and first messages costs the same
number of SQL statements whatever the page size (counted by the server itself)."""

from __future__ import annotations

import pytest

from tests.conftest import BACKENDS, ServerFactory
from tests.support.client import PASSWORD, GraphQLClient, log_in, sign_up
from tests.support.server import run_cli

PAGE = """
query Page($first: Int!) {
  tickets(first: $first) {
    totalCount
    edges { node {
      id title
      owner { id email displayName }
      assignee { id displayName }
      messages(first: 3) { edges { node { id body author { id displayName } } } }
    } }
  }
}
"""
CREATE = "mutation($input: CreateTicketInput!) { createTicket(input: $input) { id } }"
ASSIGN = "mutation($input: AssignTicketInput!) { assignTicket(input: $input) { id } }"
SEND = "mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }"
RAISE_QUOTA = "mutation { updateConfiguration(input: {maxOpenTicketsPerUser: 100}) { version } }"

pytestmark = pytest.mark.parametrize("backend", BACKENDS)


async def _statements(client: GraphQLClient, first: int) -> int:
    result = await client.execute(PAGE, {"first": first})
    assert len(result.ok()["tickets"]["edges"]) == first
    return int(result.extensions["sqlStatements"])


async def test_a_page_of_tickets_costs_a_constant_number_of_statements(
    make_server: ServerFactory, backend: str
) -> None:
    # given 60 tickets of 3 owners, half assigned, each with 2 messages by 2 authors
    server = make_server(backend, EXPOSE_SQL_STATEMENT_COUNT="true")
    made = run_cli(
        "create-admin",
        "--email",
        "lead@example.test",
        "--password",
        PASSWORD,
        env=server.env,
        cwd=server.workdir,
    )
    assert made.returncode == 0, made.stderr
    async with GraphQLClient(server.graphql_url) as admin:
        admin_id = (await log_in(admin, "lead@example.test"))["user"]["id"]
        (await admin.execute(RAISE_QUOTA)).ok()
        for owner_number in range(3):
            async with GraphQLClient(server.graphql_url) as owner:
                await sign_up(owner, f"owner{owner_number}@example.com")
                for n in range(20):
                    ticket = (
                        await owner.execute(
                            CREATE, {"input": {"title": f"T{n}", "description": "d"}}
                        )
                    ).ok()["createTicket"]
                    await owner.execute(SEND, {"input": {"ticketId": ticket["id"], "body": "hi"}})
                    await admin.execute(SEND, {"input": {"ticketId": ticket["id"], "body": "yo"}})
                    if n % 2:
                        await admin.execute(
                            ASSIGN, {"input": {"ticketId": ticket["id"], "assigneeId": admin_id}}
                        )

        # when the admin reads pages of 5 and of 50
        small = await _statements(admin, 5)
        large = await _statements(admin, 50)

    # then the count does not grow with the page: session check, tickets, count,
    # users (owners and assignees), messages, authors
    assert small == large
    assert large <= 7


async def test_requests_of_the_next_seconds_share_the_user_row_of_their_session_check(
    make_server: ServerFactory, backend: str
) -> None:
    # The session itself is checked in the session store on every request; the
    # user row behind it is read once for USER_ROW_MAX_AGE_SECONDS (auth/service.py).
    server = make_server(backend, EXPOSE_SQL_STATEMENT_COUNT="true")
    async with GraphQLClient(server.graphql_url) as client:
        await sign_up(client, "counted@example.com")
        first = await client.execute("query { me { email } }")
        second = await client.execute("query { me { email } }")

    assert first.ok() == second.ok() == {"me": {"email": "counted@example.com"}}
    assert (first.extensions["sqlStatements"], second.extensions["sqlStatements"]) == (1, 0)
