"""The few GraphQL calls a benchmark makes to set itself up, over HTTP."""

from __future__ import annotations

from typing import Any

import httpx

SIGN_UP = """
mutation SignUp($input: SignUpInput!) { signUp(input: $input) { accessToken user { id } } }
"""
LOG_IN = """
mutation LogIn($input: LogInInput!) { logIn(input: $input) { accessToken user { id } } }
"""
CREATE_TICKET = """
mutation CreateTicket($input: CreateTicketInput!) { createTicket(input: $input) { id } }
"""
# What the sender asks back: as little as possible, so it measures the write.
SEND_MESSAGE = """
mutation Send($input: SendMessageInput!) { sendMessage(input: $input) { id } }
"""
# What each subscriber asks for: a chat message as a front end renders it.
MESSAGE_ADDED = """
subscription Chat($ticketId: ID!) {
  messageAdded(ticketId: $ticketId) { id ticketId body createdAt author { id displayName } }
}
"""


class GraphQLError(RuntimeError):
    pass


def call(
    url: str, query: str, variables: dict[str, Any], token: str | None = None
) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(
        url, json={"query": query, "variables": variables}, headers=headers, timeout=30
    )
    body = response.json()
    if body.get("errors"):
        raise GraphQLError(f"{query.split('(')[0].strip()}: {body['errors']}")
    data: dict[str, Any] = body["data"]
    return data


def sign_up(url: str, email: str, password: str) -> str:
    variables = {"input": {"email": email, "password": password, "displayName": "Bench user"}}
    return str(call(url, SIGN_UP, variables)["signUp"]["accessToken"])


def log_in(url: str, email: str, password: str) -> str:
    variables = {"input": {"email": email, "password": password}}
    return str(call(url, LOG_IN, variables)["logIn"]["accessToken"])


def create_ticket(url: str, token: str) -> str:
    variables = {
        "input": {
            "title": "Fan-out benchmark",
            "description": "Every subscriber of the benchmark listens to this ticket.",
            "category": "General",
        }
    }
    return str(call(url, CREATE_TICKET, variables, token)["createTicket"]["id"])


# Added for the mutation and query benchmarks (bench/mutations.py, bench/queries.py).
ASSIGN_TICKET = """
mutation Assign($input: AssignTicketInput!) { assignTicket(input: $input) { id } }
"""
CONFIGURATION = "query Configuration { configuration { maxOpenTicketsPerUser } }"
ME = "query Me { me { id } }"
# A support agent's ticket list: a page of tickets with owner, assignee and the
# first messages of each with their authors, as a front end renders it.
TICKET_PAGE = """
query TicketPage($first: Int!, $messages: Int!) {
  tickets(first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      id title status priority category createdAt updatedAt
      owner { id email displayName }
      assignee { id displayName }
      messages(first: $messages) {
        pageInfo { hasNextPage }
        edges { node { id body createdAt author { id displayName role } } }
      }
    } }
  }
}
"""


def call_with_extensions(
    url: str, query: str, variables: dict[str, Any], token: str | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """`data` and `extensions` of a response (e.g. the server's SQL statement count)."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(
        url, json={"query": query, "variables": variables}, headers=headers, timeout=30
    )
    body = response.json()
    if body.get("errors"):
        raise GraphQLError(f"{query.split('(')[0].strip()}: {body['errors']}")
    return body["data"], body.get("extensions") or {}


def max_open_tickets_per_user(url: str) -> int:
    return int(call(url, CONFIGURATION, {})["configuration"]["maxOpenTicketsPerUser"])


def my_id(url: str, token: str) -> str:
    return str(call(url, ME, {}, token)["me"]["id"])
