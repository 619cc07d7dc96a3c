"""A real GraphQL client for the tests: gql over HTTP (httpx) and over WebSocket."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import httpx
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport

PASSWORD = "correct horse battery"


@dataclass
class Result:
    data: dict[str, Any] | None
    errors: list[dict[str, Any]] = field(default_factory=list)
    extensions: dict[str, Any] = field(default_factory=dict)

    @property
    def codes(self) -> list[str]:
        return [error.get("extensions", {}).get("code") for error in self.errors]

    def ok(self) -> dict[str, Any]:
        assert not self.errors, self.errors
        assert self.data is not None
        return self.data


class GraphQLClient:
    """One browser-like client: gql over HTTP, keeping the refresh cookie between calls."""

    def __init__(self, url: str, token: str | None = None) -> None:
        self.url = url
        self.token = token
        self._transport = HTTPXAsyncTransport(url, timeout=30)
        self._client = Client(transport=self._transport)
        self._session: Any = None

    async def __aenter__(self) -> GraphQLClient:
        self._session = await self._client.connect_async()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._client.close_async()

    async def execute(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> Result:
        bearer = token or self.token
        headers = {"Content-Type": "application/json"}
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        request = GraphQLRequest(query, variable_values=variables)
        # The body as a browser's JSON.stringify writes it: non-ASCII as \u escapes,
        # which also carry a lone surrogate (httpx's own JSON encoding cannot).
        body = json.dumps(request.payload)
        try:
            result = await self._session.execute(
                request,
                extra_args={"headers": headers, "content": body},
                get_execution_result=True,
            )
        except TransportQueryError as error:
            return Result(
                data=error.data, errors=list(error.errors or []), extensions=error.extensions or {}
            )
        return Result(data=result.data, extensions=result.extensions or {})

    @property
    def cookies(self) -> httpx.Cookies:
        assert self._transport.client is not None
        return self._transport.client.cookies

    @property
    def last_headers(self) -> httpx.Headers:
        assert self._transport.response_headers is not None
        return self._transport.response_headers


SIGN_UP = """
mutation SignUp($input: SignUpInput!) {
  signUp(input: $input) { accessToken accessTokenExpiresAt user { id email displayName role } }
}
"""

LOG_IN = """
mutation LogIn($input: LogInInput!) {
  logIn(input: $input) { accessToken accessTokenExpiresAt user { id email role } }
}
"""


async def sign_up(client: GraphQLClient, email: str, password: str = PASSWORD) -> dict[str, Any]:
    """Sign up and remember the access token on the client; returns the payload."""
    result = await client.execute(
        SIGN_UP, {"input": {"email": email, "password": password, "displayName": "Test User"}}
    )
    payload: dict[str, Any] = result.ok()["signUp"]
    client.token = payload["accessToken"]
    return payload


async def log_in(client: GraphQLClient, email: str, password: str = PASSWORD) -> dict[str, Any]:
    result = await client.execute(LOG_IN, {"input": {"email": email, "password": password}})
    payload: dict[str, Any] = result.ok()["logIn"]
    client.token = payload["accessToken"]
    return payload
