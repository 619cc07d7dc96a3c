"""GraphQL documents and helpers shared by the ticket, message, configuration and log tests."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from tests.support.client import PASSWORD, GraphQLClient, Result, log_in, sign_up
from tests.support.server import Server, run_cli

TICKET_FIELDS = """
fragment TicketFields on Ticket {
  id title description status priority category createdAt updatedAt closedAt
  owner { id email displayName role }
  assignee { id email displayName role }
}
"""

CREATE_TICKET = (
    """
mutation CreateTicket($input: CreateTicketInput!) {
  createTicket(input: $input) { ...TicketFields }
}
"""
    + TICKET_FIELDS
)

TICKET = "query Ticket($id: ID!) { ticket(id: $id) { ...TicketFields } }" + TICKET_FIELDS

TICKETS = """
query Tickets($first: Int, $after: String, $filter: TicketFilter) {
  tickets(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id title status priority owner { id } assignee { id } createdAt } }
  }
}
"""

UPDATE_STATUS = """
mutation UpdateStatus($input: UpdateTicketStatusInput!) {
  updateTicketStatus(input: $input) { id status closedAt updatedAt }
}
"""

ASSIGN = """
mutation Assign($input: AssignTicketInput!) {
  assignTicket(input: $input) { id assignee { id email displayName role } }
}
"""

SEND_MESSAGE = """
mutation Send($input: SendMessageInput!) {
  sendMessage(input: $input) { id ticketId body createdAt author { id email displayName } }
}
"""

CONFIGURATION = """
query {
  configuration {
    registrationOpen maxOpenTicketsPerUser maxMessageLength ticketCategories
    version updatedAt updatedBy { id email role }
  }
}
"""

UPDATE_CONFIGURATION = """
mutation UpdateConfiguration($input: UpdateConfigurationInput!) {
  updateConfiguration(input: $input) {
    registrationOpen maxOpenTicketsPerUser maxMessageLength ticketCategories
    version updatedAt updatedBy { id email role }
  }
}
"""

LOGS = """
query Logs($first: Int, $after: String, $minLevel: LogLevel) {
  logs(first: $first, after: $after, minLevel: $minLevel) {
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id level event message ticketId createdAt actor { id } } }
  }
}
"""

ME = "query { me { id email } }"

_counter = itertools.count()


def fresh_email() -> str:
    return f"e2e{next(_counter)}-{uuid.uuid4().hex[:8]}@example.com"


def token() -> str:
    """A string no other test uses, to find one's own tickets and log entries."""
    return uuid.uuid4().hex[:12]


async def my_id(client: GraphQLClient) -> str:
    me: dict[str, Any] = (await client.execute(ME)).ok()["me"]
    return str(me["id"])


async def create_ticket(
    client: GraphQLClient, title: str = "Printer on fire", **fields: Any
) -> dict[str, Any]:
    variables = {"input": {"title": title, "description": "It smokes.", **fields}}
    ticket: dict[str, Any] = (await client.execute(CREATE_TICKET, variables)).ok()["createTicket"]
    return ticket


def status_input(ticket_id: str, status: str) -> dict[str, Any]:
    return {"input": {"ticketId": ticket_id, "status": status}}


async def set_status(client: GraphQLClient, ticket_id: str, status: str) -> Result:
    return await client.execute(UPDATE_STATUS, status_input(ticket_id, status))


async def assign(client: GraphQLClient, ticket_id: str, assignee_id: str | None) -> Result:
    return await client.execute(
        ASSIGN, {"input": {"ticketId": ticket_id, "assigneeId": assignee_id}}
    )


def assert_bad_input(result: Result, field: str) -> None:
    """Exactly one BAD_USER_INPUT error, naming the offending input."""
    assert result.codes == ["BAD_USER_INPUT"], result.errors
    assert result.errors[0]["extensions"]["field"] == field


async def list_tickets(client: GraphQLClient, **variables: Any) -> dict[str, Any]:
    connection: dict[str, Any] = (await client.execute(TICKETS, variables)).ok()["tickets"]
    return connection


def ids_of(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["id"] for edge in connection["edges"]]


async def log_nodes(
    admin: GraphQLClient, min_level: str = "INFO", first: int = 100
) -> list[dict[str, Any]]:
    """The newest log entries at or above `min_level` (the tests run one at a time)."""
    variables = {"first": first, "minLevel": min_level}
    logs = (await admin.execute(LOGS, variables)).ok()["logs"]
    return [edge["node"] for edge in logs["edges"]]


@asynccontextmanager
async def signed_up(server: Server, email: str | None = None) -> AsyncIterator[GraphQLClient]:
    """Another browser, signed up as a fresh USER."""
    async with GraphQLClient(server.graphql_url) as graphql:
        await sign_up(graphql, email or fresh_email())
        yield graphql


@asynccontextmanager
async def logged_in(server: Server, email: str) -> AsyncIterator[GraphQLClient]:
    async with GraphQLClient(server.graphql_url) as graphql:
        await log_in(graphql, email)
        yield graphql


def add_admin(server: Server) -> str:
    """Create an admin with `ticketing create-admin` on a server of one's own."""
    email = fresh_email()
    made = run_cli(
        "create-admin", "--email", email, "--password", PASSWORD, env=server.env, cwd=server.workdir
    )
    assert made.returncode == 0, made.stderr
    return email


async def configure(admin: GraphQLClient, **changes: Any) -> dict[str, Any]:
    result = await admin.execute(UPDATE_CONFIGURATION, {"input": changes})
    config: dict[str, Any] = result.ok()["updateConfiguration"]
    return config
