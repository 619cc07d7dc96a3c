"""What every fault test checks: a failure is quick, JSON, coded, and shows nothing inside."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.support.client import GraphQLClient
from tests.support.masking import problems_with
from tests.support.server import Server

UNAVAILABLE_MESSAGE = "A backing service is unavailable; try again shortly."
# A request that needs a service which is down must fail within this, not hang.
FAIL_FAST_SECONDS = 3.0
REQUEST_TIMEOUT_SECONDS = 15.0
POLL_SECONDS = 0.1
# Everything a user's tickets hold: compared before and after a fault, so that
# nothing committed was lost or half-written.
MY_TICKETS = """
query {
  tickets(first: 10) {
    totalCount
    edges { node {
      id title description status priority category owner { id }
      messages(first: 10) { edges { node { id body author { id } } } }
    } }
  }
}
"""


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    seconds: float
    body: dict[str, Any]

    @property
    def codes(self) -> list[str | None]:
        return [(e.get("extensions") or {}).get("code") for e in self.body.get("errors") or []]

    def data(self) -> dict[str, Any]:
        assert not self.body.get("errors"), self.body
        data: dict[str, Any] = self.body["data"]
        return data


async def post(
    server: Server,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
    limit: float = REQUEST_TIMEOUT_SECONDS,
) -> Answer:
    """POST one GraphQL request on a new connection, the way any HTTP client would."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    started = time.monotonic()
    async with httpx.AsyncClient(timeout=limit) as http:
        response = await http.post(
            server.graphql_url, json={"query": query, "variables": variables}, headers=headers
        )
    seconds = time.monotonic() - started
    content_type = response.headers.get("content-type", "")
    body = response.json() if content_type.startswith("application/json") else {}
    if not body:
        body = {"_raw": response.text[:2000]}
    return Answer(response.status_code, content_type, seconds, body)


def assert_fails_cleanly(answer: Answer, *, unavailable: bool = True) -> None:
    """Quick, JSON, every error coded from the contract, nothing internal shown."""
    assert answer.seconds < FAIL_FAST_SECONDS, f"took {answer.seconds:.2f}s: {answer.body}"
    assert answer.status == 200, answer
    assert answer.content_type.startswith("application/json"), answer
    errors = answer.body.get("errors")
    assert errors, answer.body
    for error in errors:
        assert not problems_with(error), (problems_with(error), error)
        assert set(error.get("extensions") or {}) <= {"code", "reference"}, error
    if unavailable:
        assert answer.codes == ["INTERNAL_SERVER_ERROR"], answer.body
        assert errors[0]["message"] == UNAVAILABLE_MESSAGE, errors


async def readyz(server: Server) -> int:
    """The status of /readyz; 0 if the server does not answer at all."""
    try:
        async with httpx.AsyncClient(timeout=5) as http:
            return (await http.get(f"{server.base_url}/readyz")).status_code
    except httpx.HTTPError:
        return 0


async def eventually(check: Callable[[], Awaitable[bool]], within: float, what: str) -> float:
    """Seconds until `check()` holds; fails the test if it does not within `within`."""
    started = time.monotonic()
    while not await check():
        if time.monotonic() - started > within:
            pytest.fail(f"not within {within}s: {what}")
        await asyncio.sleep(POLL_SECONDS)
    return time.monotonic() - started


async def readyz_becomes(server: Server, status: int, within: float) -> float:
    async def reached() -> bool:
        return await readyz(server) == status

    return await eventually(reached, within, f"/readyz answers {status}")


async def succeeds_again(
    server: Server, query: str, variables: dict[str, Any] | None, token: str | None, within: float
) -> Answer:
    """Retry a request until it succeeds (a service just came back); the first success."""
    started = time.monotonic()
    last: object = None
    while time.monotonic() - started < within:
        try:
            answer = await post(server, query, variables, token=token, limit=5)
        except httpx.HTTPError as error:
            last = error
        else:
            if answer.status == 200 and not answer.body.get("errors"):
                return answer
            last = answer
        await asyncio.sleep(POLL_SECONDS)
    pytest.fail(f"no success within {within}s; last: {last}\n{server.log()[-3000:]}")


async def my_tickets(client: GraphQLClient) -> dict[str, Any]:
    tickets: dict[str, Any] = (await client.execute(MY_TICKETS)).ok()["tickets"]
    return tickets
