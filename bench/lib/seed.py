"""Data for the request benchmarks, made through the API as users would make it.

Several users (a user may hold only `maxOpenTicketsPerUser` open tickets, 10
by default, so a benchmark that needs more tickets needs more users), their
tickets, conversations on them, assignments. Requests go out a few at a time
(`CONCURRENCY`) over keep-alive connections.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from lib import api
from lib.deployment import PASSWORD

CONCURRENCY = 8
T = TypeVar("T")


@dataclass(frozen=True)
class Account:
    email: str
    token: str
    user_id: str


@dataclass(frozen=True)
class SeededTicket:
    ticket_id: str
    owner: Account


class _Client:
    """Keep-alive connections to the endpoint, a few requests at a time."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.AsyncClient(
            timeout=60,
            limits=httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY),
        )

    async def __aenter__(self) -> _Client:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.http.aclose()

    async def call(
        self, query: str, variables: dict[str, Any], token: str | None = None
    ) -> dict[str, Any]:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        response = await self.http.post(
            self.url, json={"query": query, "variables": variables}, headers=headers
        )
        body = response.json()
        if body.get("errors"):
            raise api.GraphQLError(f"{query.split('(')[0].strip()}: {body['errors']}")
        data: dict[str, Any] = body["data"]
        return data


async def _gather(jobs: Iterable[Callable[[], Awaitable[T]]]) -> list[T]:
    """Every job, at most CONCURRENCY at once, answers in order."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def gated(job: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await job()

    return list(await asyncio.gather(*(gated(job) for job in jobs)))


async def _sign_up(url: str, label: str, count: int) -> list[Account]:
    async with _Client(url) as client:

        def job(number: int) -> Callable[[], Awaitable[Account]]:
            async def sign_up() -> Account:
                email = f"bench-{label}-{number:04d}@example.com"
                variables = {
                    "input": {
                        "email": email,
                        "password": PASSWORD,
                        "displayName": f"Bench {label} {number}",
                    }
                }
                payload = (await client.call(api.SIGN_UP, variables))["signUp"]
                return Account(email, payload["accessToken"], payload["user"]["id"])

            return sign_up

        return await _gather(job(number) for number in range(count))


def sign_up_users(url: str, label: str, count: int) -> list[Account]:
    """`count` new users (`bench-<label>-NNNN@example.com`), each signed in."""
    return asyncio.run(_sign_up(url, label, count))


async def _open_tickets(url: str, owners: list[Account], per_user: int) -> list[SeededTicket]:
    async with _Client(url) as client:

        def job(owner: Account, number: int) -> Callable[[], Awaitable[SeededTicket]]:
            async def create() -> SeededTicket:
                variables = {
                    "input": {
                        "title": f"Ticket {number} of {owner.email}",
                        "description": "Made by a benchmark: a question about an invoice.",
                        "category": ("General", "Billing", "Technical")[number % 3],
                    }
                }
                made = await client.call(api.CREATE_TICKET, variables, owner.token)
                return SeededTicket(made["createTicket"]["id"], owner)

            return create

        # Ticket by ticket across the owners, so that the newest page mixes them.
        return await _gather(job(owner, number) for number in range(per_user) for owner in owners)


def open_tickets(url: str, owners: list[Account], per_user: int) -> list[SeededTicket]:
    """`per_user` tickets for each owner."""
    return asyncio.run(_open_tickets(url, owners, per_user))


async def _converse(
    url: str,
    tickets: list[SeededTicket],
    agent_token: str,
    agent_id: str,
    messages: int,
    assign_every: int,
) -> int:
    async with _Client(url) as client:

        def conversation(ticket: SeededTicket, index: int) -> Callable[[], Awaitable[int]]:
            async def talk() -> int:
                for turn in range(messages):
                    # The owner asks, the agent answers, in turn.
                    token = ticket.owner.token if turn % 2 == 0 else agent_token
                    body = f"Message {turn + 1} on ticket {ticket.ticket_id}: " + (
                        "could you have a look at this, please?"
                        if turn % 2 == 0
                        else "thanks, we are on it."
                    )
                    variables = {"input": {"ticketId": ticket.ticket_id, "body": body}}
                    await client.call(api.SEND_MESSAGE, variables, token)
                if assign_every and index % assign_every == 0:
                    variables = {"input": {"ticketId": ticket.ticket_id, "assigneeId": agent_id}}
                    await client.call(api.ASSIGN_TICKET, variables, agent_token)
                return messages

            return talk

        return sum(
            await _gather(conversation(ticket, index) for index, ticket in enumerate(tickets))
        )


def converse(
    url: str,
    tickets: list[SeededTicket],
    agent_token: str,
    agent_id: str,
    messages: int,
    assign_every: int = 2,
) -> int:
    """`messages` messages on each ticket, owner and agent in turn; every
    `assign_every`-th ticket assigned to the agent. Returns the messages sent."""
    return asyncio.run(_converse(url, tickets, agent_token, agent_id, messages, assign_every))
