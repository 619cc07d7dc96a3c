"""Seeding the spread benchmark through the API: owners sign up, each opens its tickets.

Everything goes through the public API, in parallel (`concurrency` requests in
flight), as real users would create it: `signUp` (argon2id hashing, the
dominant cost), then `createTicket` with the owner's own token. When one owner
must hold more tickets than `maxOpenTicketsPerUser` allows, the admin raises
that runtime setting first with `updateConfiguration`, and the result says so.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from lib.api import CREATE_TICKET, SIGN_UP, GraphQLError

CONFIGURATION = "query Configuration { configuration { maxOpenTicketsPerUser version } }"
UPDATE_CONFIGURATION = """
mutation Raise($input: UpdateConfigurationInput!) {
  updateConfiguration(input: $input) { maxOpenTicketsPerUser version }
}
"""
OWNER_PASSWORD = "spread-owner-password-1234"  # noqa: S105 (a throwaway database's user)


@dataclass
class Seeded:
    ticket_ids: list[str] = field(default_factory=list)  # index = the ticket's number in the run
    owner_tokens: list[str] = field(default_factory=list)  # the owner's token of each ticket
    report: dict[str, Any] = field(default_factory=dict)


async def _call(
    client: httpx.AsyncClient,
    url: str,
    query: str,
    variables: dict[str, Any],
    token: str | None = None,
) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = await client.post(
        url, json={"query": query, "variables": variables}, headers=headers
    )
    answer = response.json()
    if answer.get("errors"):
        raise GraphQLError(f"{query.split('(')[0].strip()}: {answer['errors']}")
    data: dict[str, Any] = answer["data"]
    return data


async def _in_parallel(count: int, concurrency: int, job: Any) -> list[Any]:
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int) -> Any:
        async with gate:
            return await job(index)

    return list(await asyncio.gather(*(one(index) for index in range(count))))


async def _seed(
    url: str, admin_token: str, tickets: int, owners: int, concurrency: int, run_id: str
) -> Seeded:
    seeded = Seeded()
    per_owner = math.ceil(tickets / owners)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=120) as client:
        quota = (await _call(client, url, CONFIGURATION, {}))["configuration"][
            "maxOpenTicketsPerUser"
        ]
        changes = []
        if per_owner > quota:
            # Runtime configuration, as an operator would change it: only the
            # admin may, and it takes effect at once on every worker.
            raised = await _call(
                client,
                url,
                UPDATE_CONFIGURATION,
                {"input": {"maxOpenTicketsPerUser": per_owner}},
                admin_token,
            )
            changes.append({"maxOpenTicketsPerUser": [quota, per_owner]})
            quota = raised["updateConfiguration"]["maxOpenTicketsPerUser"]

        started = time.monotonic()

        async def sign_up(index: int) -> str:
            variables = {
                "input": {
                    "email": f"spread-owner-{run_id}-{index:05d}@example.com",
                    "password": OWNER_PASSWORD,
                    "displayName": f"Owner {index}",
                }
            }
            return str((await _call(client, url, SIGN_UP, variables))["signUp"]["accessToken"])

        tokens = await _in_parallel(owners, concurrency, sign_up)
        signed_up = time.monotonic()

        async def create(index: int) -> str:
            variables = {
                "input": {
                    "title": f"Spread benchmark ticket {index}",
                    "description": "One of many tickets, each watched by its owner and an admin.",
                    "category": "General",
                }
            }
            token = tokens[index % owners]
            return str(
                (await _call(client, url, CREATE_TICKET, variables, token))["createTicket"]["id"]
            )

        seeded.ticket_ids = await _in_parallel(tickets, concurrency, create)
        created = time.monotonic()
    seeded.owner_tokens = [tokens[index % owners] for index in range(tickets)]
    seeded.report = {
        "how": "API: signUp per owner, then createTicket with the owner's token",
        "tickets": tickets,
        "owners": owners,
        "tickets_per_owner": per_owner,
        "max_open_tickets_per_user": quota,
        "configuration_changes": changes,
        "concurrency": concurrency,
        "sign_up_seconds": round(signed_up - started, 2),
        "create_ticket_seconds": round(created - signed_up, 2),
    }
    return seeded


def seed(
    url: str, admin_token: str, tickets: int, owners: int, concurrency: int, run_id: str
) -> Seeded:
    """`owners` users and `tickets` tickets, ticket i owned by owner i % owners."""
    return asyncio.run(_seed(url, admin_token, tickets, owners, concurrency, run_id))
