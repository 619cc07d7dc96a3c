"""Live subscriptions for the tests: a background collector over gql's WebSocket transport.

`await subscribe(...)` opens its own socket, sends the subscription and returns
once the server has really registered it, so that an event caused right after
cannot be missed. The signal, in order of preference:

- the subscription already delivered a result or ended (a replay, an error);
- with Redis (the MariaDB backend, a cluster), the subscription's session
  channel (`session.<sid>`, which every subscription listens on) has a
  subscriber in Redis: `PUBSUB NUMSUB`. This holds when that session has no
  other open subscription, which is how the tests use it (one log-in per
  subscriber). The server subscribes a listener's channels one after another
  on one connection, so a short grace covers the rest;
- otherwise (the embedded backend) a short settle time.
(Not the /diagnostics listener count: a listener is counted before its Redis
SUBSCRIBE has taken effect, a few milliseconds in which an event is lost.)

Every wait has a timeout, so a missing event fails the test instead of hanging it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import jwt
import pytest
import websockets
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.websockets import WebsocketsTransport
from redis.asyncio import Redis
from websockets.asyncio.client import ClientConnection

from tests.support.client import GraphQLClient, log_in
from tests.support.server import Server
from tests.support.sockets import TRANSPORT_WS, socket_transport

LEGACY_WS = WebsocketsTransport.APOLLO_SUBPROTOCOL  # graphql-ws
both_protocols = pytest.mark.parametrize(
    "protocol", [TRANSPORT_WS, LEGACY_WS], ids=["transport-ws", "legacy-ws"]
)

READY_TIMEOUT_SECONDS = 5.0
SETTLE_SECONDS = 0.3  # without Redis there is nothing outside the server to watch
# A listener's channels are subscribed upstream in no fixed order, back to back.
UPSTREAM_GRACE_SECONDS = 0.05
EVENT_TIMEOUT_SECONDS = 5.0


def session_id_of(access_token: str) -> str:
    """The `sid` claim (read only; the server checks the signature)."""
    claims: dict[str, Any] = jwt.decode(access_token, options={"verify_signature": False})
    return str(claims["sid"])


class LiveSubscription:
    """One subscription on its own socket; collects its results in the background."""

    def __init__(
        self, server: Server, token: str | None, document: str, variables: dict[str, Any] | None
    ) -> None:
        self.server = server
        self.token = token
        self.document = document
        self.variables = variables
        self.protocol = TRANSPORT_WS
        self.results: list[dict[str, Any]] = []
        self.received_at: list[float] = []  # time.perf_counter() of each result
        self.errors: list[dict[str, Any]] = []  # the GraphQL errors that ended the stream
        self.failure: BaseException | None = None  # the socket failed or was closed
        self.ended = False  # the stream is over (complete, error or failure)
        self.ended_at: float | None = None  # time.perf_counter() when it ended
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    @property
    def codes(self) -> list[str | None]:
        return [(error.get("extensions") or {}).get("code") for error in self.errors]

    def start(self, protocol: str) -> None:
        self.protocol = protocol
        self._task = asyncio.create_task(self._run(), name="live-subscription")

    async def _run(self) -> None:
        transport = socket_transport(self.server, self.token, self.protocol)
        request = GraphQLRequest(self.document, variable_values=self.variables)
        try:
            async with Client(transport=transport) as session:
                async for data in session.subscribe(request):
                    self.results.append(data)
                    self.received_at.append(time.perf_counter())
                    await self._notify()
        except TransportQueryError as error:
            self.errors = list(error.errors or [{"message": str(error)}])
        except Exception as error:  # reported to the test through `failure`
            self.failure = error
        finally:
            self.ended, self.ended_at = True, time.perf_counter()
            with contextlib.suppress(RuntimeError):  # the loop is closing
                await self._notify()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _until(self, done: Any, within: float) -> bool:
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(done), within)
            except TimeoutError:
                return False
        return True

    def _describe(self) -> str:
        return (
            f"results={self.results!r} errors={self.errors!r} "
            f"failure={self.failure!r} ended={self.ended}"
        )

    async def wait_for(
        self, count: int, within: float = EVENT_TIMEOUT_SECONDS
    ) -> list[dict[str, Any]]:
        """The first `count` results; fails if they do not all arrive in time."""
        await self._until(lambda: len(self.results) >= count or self.ended, within)
        assert len(self.results) >= count, f"expected {count} results in {within}s: " + (
            self._describe()
        )
        return self.results[:count]

    async def wait_until(
        self, check: Callable[[list[dict[str, Any]]], bool], within: float = EVENT_TIMEOUT_SECONDS
    ) -> list[dict[str, Any]]:
        """All results so far, once `check(results)` holds; fails if it does not in time."""
        await self._until(lambda: check(self.results) or self.ended, within)
        assert check(self.results), f"not seen in {within}s: {self._describe()}"
        return list(self.results)

    async def wait_ended(self, within: float = EVENT_TIMEOUT_SECONDS) -> None:
        """Until the stream is over (completed, failed with errors, or the socket closed)."""
        ended = await self._until(lambda: self.ended, within)
        assert ended, f"the subscription did not end within {within}s: {self._describe()}"

    async def quiet_for(self, seconds: float) -> None:
        """Let `seconds` pass, failing at once if anything more than now arrives."""
        seen = len(self.results)
        await self._until(lambda: len(self.results) > seen, seconds)
        assert len(self.results) == seen, f"unexpected results: {self.results[seen:]!r}"

    async def wait_ready(self, within: float = READY_TIMEOUT_SECONDS) -> None:
        if self.results or self.ended:
            return
        redis_url = self.server.env.get("REDIS_URL")
        if redis_url is None or self.token is None:
            await self._until(lambda: bool(self.results) or self.ended, SETTLE_SECONDS)
            return
        channel = self.server.env["REDIS_PREFIX"] + "session." + session_id_of(self.token)
        deadline = time.monotonic() + within
        async with Redis.from_url(redis_url) as redis:
            while time.monotonic() < deadline:
                [(_, subscribers)] = await redis.pubsub_numsub(channel)
                if subscribers:
                    await self._until(lambda: self.ended, UPSTREAM_GRACE_SECONDS)
                    return
                if self.results or self.ended:
                    return
                await asyncio.sleep(0.01)
        raise AssertionError(
            f"the subscription was not registered in {within}s: {self._describe()}"
        )

    async def stop(self) -> None:
        """Close the socket (the client stops the subscription first)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self._task, EVENT_TIMEOUT_SECONDS)


async def subscribe(
    server: Server,
    token: str | None,
    document: str,
    variables: dict[str, Any] | None = None,
    *,
    protocol: str = TRANSPORT_WS,
) -> LiveSubscription:
    """Start a subscription in the background; returns once the server has registered it."""
    live = LiveSubscription(server, token, document, variables)
    live.start(protocol)
    try:
        await live.wait_ready()
    except BaseException:
        await live.stop()
        raise
    return live


@asynccontextmanager
async def subscribed(
    server: Server,
    token: str | None,
    document: str,
    variables: dict[str, Any] | None = None,
    *,
    protocol: str = TRANSPORT_WS,
) -> AsyncIterator[LiveSubscription]:
    """`subscribe`, stopped when the block ends."""
    live = await subscribe(server, token, document, variables, protocol=protocol)
    try:
        yield live
    finally:
        await live.stop()


async def fresh_token(server: Server, email: str) -> str:
    """An access token of a new session of `email` (one session per subscriber)."""
    async with GraphQLClient(server.graphql_url) as graphql:
        await log_in(graphql, email)
        assert graphql.token is not None
        return graphql.token


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, round(fraction * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


# Raw frames, for what gql hides: close codes and the order of protocol messages.


@asynccontextmanager
async def raw_socket(server: Server, protocol: str) -> AsyncIterator[ClientConnection]:
    async with websockets.connect(
        server.ws_url, subprotocols=[protocol], open_timeout=5, close_timeout=2
    ) as socket:
        assert socket.subprotocol == protocol
        yield socket


def init_frame(token: str | None) -> dict[str, Any]:
    payload = {"authorization": f"Bearer {token}"} if token else {}
    return {"type": "connection_init", "payload": payload}


def start_frame(
    protocol: str, operation_id: str, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """`subscribe` (graphql-transport-ws) or `start` (graphql-ws)."""
    kind = "subscribe" if protocol == TRANSPORT_WS else "start"
    return {"id": operation_id, "type": kind, "payload": {"query": query, "variables": variables}}


def data_type(protocol: str) -> str:
    return "next" if protocol == TRANSPORT_WS else "data"


async def send_frame(socket: ClientConnection, frame: dict[str, Any]) -> None:
    await socket.send(json.dumps(frame))


async def receive_frame(
    socket: ClientConnection,
    within: float = EVENT_TIMEOUT_SECONDS,
    *,
    skip: tuple[str, ...] = ("ka",),
) -> dict[str, Any]:
    """The next frame, leaving out keep-alives."""
    async with asyncio.timeout(within):
        while True:
            frame: dict[str, Any] = json.loads(await socket.recv())
            if frame.get("type") not in skip:
                return frame


async def close_code(socket: ClientConnection, within: float = EVENT_TIMEOUT_SECONDS) -> int | None:
    """The code the server closes the socket with (frames before the close are dropped)."""
    try:
        async with asyncio.timeout(within):
            while True:
                await socket.recv()
    except websockets.ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else None
