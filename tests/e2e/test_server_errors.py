"""Unexpected errors: masked for the client, logged in full, and an ERROR log entry."""

from __future__ import annotations

import pytest

from tests.conftest import BACKENDS, ServerFactory
from tests.support.client import PASSWORD, GraphQLClient, log_in
from tests.support.services import run_sql

CREATE = 'mutation { createTicket(input: {title: "T", description: "D"}) { id } }'
MESSAGES = "query($id: ID!) { ticket(id: $id) { messages { edges { node { id } } } } }"
ERROR_LOGS = "{ logs(minLevel: ERROR) { edges { node { level event message } } } }"

pytestmark = pytest.mark.parametrize("backend", BACKENDS)


async def test_a_broken_database_gives_a_masked_error_with_a_reference_in_the_logs(
    make_server: ServerFactory, backend: str
) -> None:
    # given a ticket, and a database whose messages table has gone
    server = make_server(backend, ADMIN_EMAIL="ops@example.com", ADMIN_PASSWORD=PASSWORD)
    async with GraphQLClient(server.graphql_url) as admin:
        await log_in(admin, "ops@example.com")
        ticket_id = (await admin.execute(CREATE)).ok()["createTicket"]["id"]
        await run_sql(server.env["DATABASE_URL"], "DROP TABLE messages")

        # when a query needs it
        broken = await admin.execute(MESSAGES, {"id": ticket_id})
        entries = (await admin.execute(ERROR_LOGS)).ok()["logs"]["edges"]

    # then the client learns nothing of the cause, but gets a reference
    [error] = broken.errors
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert error["message"] == "Internal server error."
    assert set(error["extensions"]) == {"code", "reference"}
    assert "SELECT" not in str(error)
    assert "Error" not in str(error)  # no exception class name
    reference = error["extensions"]["reference"]
    # the server log has the traceback under that reference
    log = server.log()
    assert reference in log
    assert "Traceback" in log
    # and the activity log has an ERROR entry naming it
    [entry] = [e["node"] for e in entries if reference in e["node"]["message"]]
    assert entry["level"] == "ERROR"
    assert entry["event"] == "server.error"
