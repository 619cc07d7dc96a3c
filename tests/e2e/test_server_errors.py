"""Unexpected errors: masked for the client, logged in full, and an ERROR log entry."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import BACKENDS, ServerFactory
from tests.e2e.helpers_live import subscribed
from tests.support.client import PASSWORD, GraphQLClient, log_in
from tests.support.services import run_sql

CREATE = 'mutation { createTicket(input: {title: "T", description: "D"}) { id } }'
MESSAGES = "query($id: ID!) { ticket(id: $id) { messages { edges { node { id } } } } }"
ERROR_LOGS = "{ logs(minLevel: ERROR) { edges { node { level event message } } } }"
CONFIGURATION = "{ configuration { version } }"
LOG_ADDED = "subscription { logAdded(minLevel: ERROR) { event message } }"

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


async def test_a_failure_repeated_by_a_client_is_reported_once_then_counted(
    make_server: ServerFactory, backend: str
) -> None:
    # given a failure any anonymous client can cause: the configuration table is gone
    server = make_server(
        backend,
        ADMIN_EMAIL="ops@example.com",
        ADMIN_PASSWORD=PASSWORD,
        ERROR_REPORT_WINDOW_SECONDS="2",
    )
    async with (
        GraphQLClient(server.graphql_url) as admin,
        GraphQLClient(server.graphql_url) as anonymous,
    ):
        await log_in(admin, "ops@example.com")
        assert admin.token is not None
        async with subscribed(server, admin.token, LOG_ADDED) as live:
            await run_sql(server.env["DATABASE_URL"], "DROP TABLE configuration")

            # when the client repeats it 60 times at once
            results = await asyncio.gather(*(anonymous.execute(CONFIGURATION) for _ in range(60)))
            first_report = await live.wait_for(1)
            # and the window ends
            reports = await live.wait_for(2, within=10)
            await live.quiet_for(1)
        entries = (await admin.execute(ERROR_LOGS)).ok()["logs"]["edges"]

    # then every client still gets a masked error, all with one reference
    codes = {tuple(r.codes) for r in results}
    references = {r.errors[0]["extensions"]["reference"] for r in results}
    assert codes == {("INTERNAL_SERVER_ERROR",)}
    assert len(references) == 1
    reference = references.pop()
    # the server log has the report with its traceback once, and a count of the rest
    log = server.log()
    assert log.count(" ERROR ") == 2
    assert log.count(f"Unexpected error {reference} in operation anonymous") == 1
    assert f"Unexpected error {reference} happened 59 more times" in log
    # and the activity log, and the admins' live screens, got two entries, not 60
    messages = [report["logAdded"]["message"] for report in reports]
    assert first_report[0]["logAdded"]["message"].startswith(f"Unexpected server error {reference}")
    assert f"{reference} happened 59 more times" in messages[1]
    assert [e["node"]["message"] for e in entries if e["node"]["event"] == "server.error"] == (
        messages[::-1]
    )
