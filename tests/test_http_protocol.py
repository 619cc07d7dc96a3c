"""`ticketing serve`'s HTTP protocol on a fake transport: the deadline for a request's
headers (when it starts, when it ends, what the client is told) and the connection cap.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from uvicorn.config import Config
from uvicorn.server import ServerState

from ticketing import http_protocol
from ticketing.http_protocol import CountedLog, HttpProtocol

HEADER_TIMEOUT = 0.2
PAST_THE_DEADLINE = HEADER_TIMEOUT * 2
GET = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
HANDSHAKE = (
    b"GET /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
    b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    b"Sec-WebSocket-Version: 13\r\n\r\n"
)


class FakeTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.written_when_closed: bytes | None = None
        self.eof_written = self.aborted = False
        self.protocol: asyncio.BaseProtocol | None = None

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 50000) if name in ("peername", "sockname") else default

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += data

    def get_write_buffer_size(self) -> int:
        return 0  # the kernel took everything

    def is_closing(self) -> bool:
        return self.written_when_closed is not None

    def close(self) -> None:
        if self.written_when_closed is None:
            self.written_when_closed = bytes(self.written)

    def abort(self) -> None:
        self.aborted = True
        self.close()

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        self.eof_written = True

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self.protocol = protocol

    def get_protocol(self) -> asyncio.BaseProtocol:
        assert self.protocol is not None
        return self.protocol

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


class App:
    """Answers 200 to HTTP after `delay` seconds; accepts WebSockets and keeps them."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.requests = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            await receive()
            await send({"type": "websocket.accept"})
            await asyncio.Event().wait()
        self.requests += 1
        await asyncio.sleep(self.delay)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def opened(
    app: App, max_connections: int = 100, others: int = 0
) -> tuple[HttpProtocol, FakeTransport, ServerState]:
    """A protocol on a new connection, with `others` connections already open in the worker."""
    config = Config(
        app=app,
        lifespan="off",
        timeout_keep_alive=60,  # uvicorn's idle timer stays out of the way
        ws="ticketing.ws_protocol:WebSocketProtocol",
        ws_ping_interval=None,
    )
    config.load()
    state = ServerState()
    state.connections.update(object() for _ in range(others))  # type: ignore[misc]
    protocol = HttpProtocol(
        config=config,
        server_state=state,
        app_state={},
        header_timeout=HEADER_TIMEOUT,
        max_connections=max_connections,
    )
    transport = FakeTransport()
    transport.set_protocol(protocol)
    protocol.connection_made(transport)
    return protocol, transport, state


# The deadline for a request's headers


async def test_a_connection_that_sends_nothing_is_closed_silently_at_the_deadline() -> None:
    _, transport, _ = opened(App())

    await asyncio.sleep(HEADER_TIMEOUT / 2)
    open_before = not transport.is_closing()
    await asyncio.sleep(PAST_THE_DEADLINE)

    assert open_before
    assert transport.written_when_closed == b""


async def test_headers_sent_a_line_at_a_time_are_cut_at_the_deadline_with_408() -> None:
    protocol, transport, _ = opened(App())

    protocol.data_received(b"GET /healthz HTTP/1.1\r\n")
    for number in range(8):  # a line every quarter of the deadline: never idle, never done
        await asyncio.sleep(HEADER_TIMEOUT / 4)
        if not transport.is_closing():
            protocol.data_received(b"X-Slow-%d: 1\r\n" % number)

    assert transport.written_when_closed is not None
    assert transport.written_when_closed.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert b"connection: close\r\n" in transport.written_when_closed


async def test_the_next_deadline_starts_when_the_response_ends() -> None:
    # given a request that takes longer than the deadline to answer
    app = App(delay=PAST_THE_DEADLINE)
    protocol, transport, _ = opened(app)

    protocol.data_received(GET)
    await asyncio.sleep(PAST_THE_DEADLINE + HEADER_TIMEOUT / 2)

    # then it was answered, and the connection is kept for the next request for a while
    assert transport.written.startswith(b"HTTP/1.1 200 OK\r\n")
    assert not transport.is_closing()
    # then closed, silently, when no next request came
    await asyncio.sleep(PAST_THE_DEADLINE)
    assert transport.written_when_closed == bytes(transport.written)
    assert b"408" not in transport.written


async def test_a_pipelined_request_is_not_cut_when_the_one_before_it_is_answered() -> None:
    # given two requests in one packet, each answered after more than the deadline
    app = App(delay=PAST_THE_DEADLINE)
    protocol, transport, _ = opened(app)

    protocol.data_received(GET + GET)
    await asyncio.sleep(PAST_THE_DEADLINE * 3)

    # then both were answered before the connection closed (the second one's
    # headers were complete while the first ran)
    assert app.requests == 2
    assert transport.written_when_closed is not None
    assert transport.written_when_closed.count(b"HTTP/1.1 200 OK\r\n") == 2
    assert b"408" not in transport.written


async def test_an_upgrade_to_websocket_ends_the_header_deadline() -> None:
    protocol, transport, _ = opened(App())

    protocol.data_received(HANDSHAKE)
    await asyncio.sleep(PAST_THE_DEADLINE)

    assert transport.written.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
    assert transport.get_protocol() is not protocol
    assert not transport.is_closing()


# The cap on open connections


async def test_a_connection_beyond_the_cap_is_answered_503_at_once_and_not_counted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(http_protocol, "REFUSED_LINGER_SECONDS", HEADER_TIMEOUT)
    app = App()
    protocol, transport, state = opened(app, max_connections=3, others=3)

    protocol.data_received(GET)  # read and dropped
    await asyncio.sleep(PAST_THE_DEADLINE)

    assert transport.written.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
    assert b"connection: close\r\n" in transport.written
    assert transport.eof_written  # the client reads the answer, then the end
    assert transport.aborted  # and the client that stays is reset
    assert app.requests == 0
    assert protocol not in state.connections
    assert len(state.connections) == 3


async def test_the_last_connection_within_the_cap_is_served() -> None:
    app = App()
    protocol, transport, state = opened(app, max_connections=3, others=2)

    protocol.data_received(GET)
    await asyncio.sleep(0.05)

    assert transport.written.startswith(b"HTTP/1.1 200 OK\r\n")
    assert protocol in state.connections


# The log


def test_a_counted_log_line_comes_once_per_interval_with_the_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log = CountedLog(logging.WARNING, "%d refused (cap %d)", interval=3600)

    with caplog.at_level(logging.WARNING, logger="ticketing.http"):
        for _ in range(4):
            log.note(7)
        log.next_at = 0.0  # the interval has passed
        log.note(7)

    assert [record.getMessage() for record in caplog.records] == [
        "1 refused (cap 7)",
        "4 refused (cap 7)",
    ]
