"""Slow and idle clients against a real server: a deadline for each request's headers, the
request time limit for a slow body, and a cap on the connections one worker holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from tests.conftest import ServerFactory
from tests.support.server import Server
from tests.support.sockets import TRANSPORT_WS

HEADER_TIMEOUT_SECONDS = 5
REQUEST_TIMEOUT_SECONDS = 3
# Far beyond the deadlines: a connection still open then was never going to be closed.
GIVE_UP_SECONDS = 15
# The server's event loop keeps time in whole milliseconds, read once per turn: its
# timers may fire that much before the client's clock says the time is up.
CLOCK_SLACK_SECONDS = 0.05
LINE_EVERY_SECONDS = 0.5  # the attacker sends a line every 10 s; faster, it is never idle
SLOW_CLIENTS = 20
QUERY = {"query": "{ me { id } }"}
GET_HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
UPGRADE = (
    b"GET /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
    b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n"
)


@pytest.fixture(scope="module")
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    factory = ServerFactory(request, tmp_path_factory)
    yield factory(
        "embedded",
        REQUEST_HEADER_TIMEOUT_SECONDS=str(HEADER_TIMEOUT_SECONDS),
        REQUEST_TIMEOUT_SECONDS=str(REQUEST_TIMEOUT_SECONDS),
    )
    factory.stop_all()


@dataclass
class Ending:
    """How a raw connection ended: after how long, what the server sent, how many
    pieces the client had sent by then."""

    seconds: float
    received: bytes
    pieces_sent: int


async def trickle(server: Server, first: bytes, piece: bytes | None) -> Ending:
    """Connect, send `first`, then `piece` (numbered) every LINE_EVERY_SECONDS until the
    server closes the connection; `piece=None` sends nothing more."""
    started = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    sent = 0

    async def send_pieces() -> None:
        nonlocal sent
        writer.write(first)
        while piece is not None:
            await asyncio.sleep(LINE_EVERY_SECONDS)
            writer.write(piece.replace(b"#", str(sent).encode()))
            await writer.drain()
            sent += 1

    sending = asyncio.create_task(send_pieces())
    try:
        received = await asyncio.wait_for(reader.read(), GIVE_UP_SECONDS)
        return Ending(time.monotonic() - started, received, sent)
    finally:
        sending.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await sending
        writer.close()


# --- the deadline for headers ------------------------------------------------------------------


async def test_slow_header_senders_are_closed_at_the_deadline_and_others_are_served_meanwhile(
    server: Server,
) -> None:
    # given 20 connections sending a request's header lines one at a time, never finishing
    slow = [
        asyncio.create_task(trickle(server, GET_HEALTHZ, b"X-Slow-#: 1\r\n"))
        for _ in range(SLOW_CLIENTS)
    ]
    await asyncio.sleep(LINE_EVERY_SECONDS * 2)

    # when an ordinary client asks while they hang
    async with httpx.AsyncClient(base_url=server.base_url, timeout=GIVE_UP_SECONDS) as http:
        answered = await http.post("/graphql", json=QUERY)
    hanging = sum(not task.done() for task in slow)

    # then it is answered, and the slow ones are closed only once the deadline has passed,
    # each told 408, though it never stopped sending
    endings = await asyncio.gather(*slow)
    assert answered.status_code == 200
    assert answered.json() == {"data": {"me": None}}
    assert hanging == SLOW_CLIENTS
    for ending in endings:
        assert ending.seconds >= HEADER_TIMEOUT_SECONDS - CLOCK_SLACK_SECONDS
        assert ending.received.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
        assert ending.pieces_sent >= 3


async def test_an_idle_connection_is_closed_at_the_deadline_without_an_answer(
    server: Server,
) -> None:
    ending = await trickle(server, b"", None)

    assert ending.seconds >= HEADER_TIMEOUT_SECONDS - CLOCK_SLACK_SECONDS
    assert ending.received == b""


async def test_a_websocket_handshake_sent_slowly_is_closed_at_the_deadline(
    server: Server,
) -> None:
    # The upgrade request is read by the HTTP protocol until its headers are complete.
    ending = await trickle(server, UPGRADE, b"X-Slow-#: 1\r\n")

    assert ending.seconds >= HEADER_TIMEOUT_SECONDS - CLOCK_SLACK_SECONDS
    assert ending.received.startswith(b"HTTP/1.1 408 Request Timeout\r\n")


async def test_bytes_trickled_after_an_answer_are_cut_at_the_next_requests_deadline(
    server: Server,
) -> None:
    # A body /healthz never reads: after the answer, each byte used to restart
    # uvicorn's keep-alive timer, so the connection lived as long as bytes came.
    head = GET_HEALTHZ + b"Content-Length: 100000\r\n\r\n"

    ending = await trickle(server, head, b"x")

    answers = ending.received.split(b"HTTP/1.1 ")
    assert [answer[:3] for answer in answers[1:]] == [b"200", b"408"]
    assert ending.seconds >= HEADER_TIMEOUT_SECONDS - CLOCK_SLACK_SECONDS
    assert ending.pieces_sent >= 3


# --- a slow body: the request time limit ------------------------------------------------------


async def test_a_body_sent_a_byte_at_a_time_is_cut_by_the_request_time_limit(
    server: Server,
) -> None:
    head = (
        b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000\r\n\r\n"
    )

    ending = await trickle(server, head, b" ")

    assert ending.received.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
    assert ending.seconds >= REQUEST_TIMEOUT_SECONDS - CLOCK_SLACK_SECONDS
    assert ending.pieces_sent >= 3


# --- the cap on connections per worker --------------------------------------------------------

MAX_CONNECTIONS = 10
HELD_SOCKETS = 3


@asynccontextmanager
async def acknowledged_socket(server: Server) -> AsyncIterator[ClientConnection]:
    async with websockets.connect(
        server.ws_url, subprotocols=[TRANSPORT_WS], open_timeout=5, close_timeout=2
    ) as socket:
        await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await asyncio.wait_for(socket.recv(), 5))["type"] == "connection_ack"
        yield socket


async def healthz_status(server: Server) -> int:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=GIVE_UP_SECONDS) as http:
        return (await http.get("/healthz")).status_code


async def served_within(server: Server, seconds: float) -> bool:
    """Whether /healthz answers 200 within `seconds` (the server notices closed connections
    as their FINs arrive)."""
    for _ in range(int(seconds / 0.1)):
        if await healthz_status(server) == 200:
            return True
        await asyncio.sleep(0.1)
    return False


async def test_connections_beyond_the_cap_get_503_until_some_close(
    make_server: ServerFactory,
) -> None:
    # given a worker holding its maximum: idle HTTP connections and acknowledged WebSockets
    server = make_server(
        "embedded",
        MAX_CONNECTIONS_PER_WORKER=str(MAX_CONNECTIONS),
        REQUEST_HEADER_TIMEOUT_SECONDS="60",  # the idle ones stay for the whole test
    )
    idle = [
        await asyncio.open_connection("127.0.0.1", server.port)
        for _ in range(MAX_CONNECTIONS - HELD_SOCKETS)
    ]
    async with contextlib.AsyncExitStack() as sockets:
        for _ in range(HELD_SOCKETS):
            await sockets.enter_async_context(acknowledged_socket(server))

        # when one more client asks, over HTTP or WebSocket
        refused = await healthz_status(server)
        with pytest.raises(websockets.InvalidStatus) as refused_socket:
            await websockets.connect(server.ws_url, subprotocols=[TRANSPORT_WS], open_timeout=5)

        # then both are answered 503 at once
        assert refused == 503
        assert refused_socket.value.response.status_code == 503
        assert b"too many open connections" in refused_socket.value.response.body

        # when some of the held connections close
        for _, writer in idle[:2]:
            writer.close()
        await sockets.aclose()

        # then the server serves again
        assert await served_within(server, GIVE_UP_SECONDS)
    for _, writer in idle[2:]:
        writer.close()
    assert "connection(s) refused with 503" in server.log()
