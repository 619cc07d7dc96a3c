"""The HTTP protocol `ticketing serve` gives uvicorn: httptools, subclassed.

uvicorn bounds one thing about a client that has not sent a whole request: a
connection idle after a response (`timeout_keep_alive`, cancelled by the next
byte that arrives). A connection that sends nothing after it opens, that
sends its headers a line at a time (slowloris), or that trickles bytes after
its response stays open for ever, holding a file descriptor and a protocol.
This protocol adds two bounds:

- **A deadline for each request's headers**: `header_timeout` seconds from the
  connection's opening, or from the end of the previous response, until the
  headers are complete. Past it the connection is closed, with a 408 if part of
  a request came (a slow but honest client learns why, RFC 9110 15.5.9) and
  silently if nothing did, as an idle keep-alive connection is closed: there a
  408 could be taken for the answer to a request the client is just sending.
  The body is not covered here: `http_limits.RequestTimeout` bounds the
  application, which reads the body. A WebSocket handshake is an HTTP request
  until its headers are complete, so it has the same deadline.
- **A cap on open connections in this worker**, HTTP and WebSocket together
  (uvicorn keeps both in one set, and every WebSocket opens as HTTP here). One
  connection more is answered 503 at once, before its request is read, and is
  not counted: it ends when the client has read the answer and closed, and is
  reset after REFUSED_LINGER_SECONDS otherwise. uvicorn's `limit_concurrency`
  does not do this: it answers 503 only once a request's headers are complete
  (a slowloris never gets there) and lets WebSocket handshakes through.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from typing import Any, cast

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

logger = logging.getLogger("ticketing.http")

# A refused client that sent its request at once has read the 503 by then; one
# that has not is not waiting for it.
REFUSED_LINGER_SECONDS = 1.0
# How often, at most, each kind of closed connection is logged (with a count):
# a line per connection would let an attacker flood the log as well.
LOG_INTERVAL_SECONDS = 10.0
OVER_CAPACITY = b"The server has too many open connections; try again shortly.\n"
HEADERS_TOO_SLOW = b"The request's headers did not arrive in time.\n"


class CountedLog:
    """A log line that says how many times something happened, once per interval at most
    (what happens after a line is counted in the next one, when it happens again)."""

    def __init__(self, level: int, message: str, interval: float = LOG_INTERVAL_SECONDS) -> None:
        self.level = level
        self.message = message
        self.interval = interval
        self.count = 0
        self.next_at = 0.0

    def note(self, *args: object) -> None:
        self.count += 1
        now = time.monotonic()
        if now >= self.next_at:
            logger.log(self.level, self.message, self.count, *args)
            self.count = 0
            self.next_at = now + self.interval


_refused = CountedLog(
    logging.WARNING,
    "%d connection(s) refused with 503: this worker has %d open, its maximum "
    "(MAX_CONNECTIONS_PER_WORKER)",
)
_too_slow = CountedLog(
    logging.INFO,
    "%d connection(s) closed: no complete request headers within %ss "
    "(REQUEST_HEADER_TIMEOUT_SECONDS)",
)


def http_protocol(*, header_timeout: float, max_connections: int) -> type[asyncio.Protocol]:
    """What `uvicorn.run(http=...)` takes: a picklable factory (workers are spawned), typed as
    the class uvicorn's signature names; uvicorn only ever calls it."""
    factory = functools.partial(
        HttpProtocol, header_timeout=header_timeout, max_connections=max_connections
    )
    return cast("type[asyncio.Protocol]", factory)


class HttpProtocol(HttpToolsProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        header_timeout: float,
        max_connections: int,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.header_timeout = header_timeout
        self.max_connections = max_connections
        # The one timer a connection runs here: its headers' deadline, or, once
        # refused, the moment it is reset.
        self._deadline: asyncio.TimerHandle | None = None
        self._bytes_since_armed = False
        self._refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            self._refuse()
        else:
            self._arm_header_deadline()

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # read and dropped, so that closing does not reset the connection
        if self._deadline is not None:
            self._bytes_since_armed = True
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # The last request parsed is answered, so the next one's headers are not
        # complete (a pipelined request whose headers are stays unanswered).
        if not self.transport.is_closing() and self.cycle.response_complete:
            self._arm_header_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm_header_deadline(self) -> None:
        self._disarm()
        self._bytes_since_armed = False
        self._deadline = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _headers_too_slow(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        _too_slow.note(self.header_timeout)
        if self._bytes_since_armed:
            self.transport.write(self._plain_response(408, HEADERS_TOO_SLOW))
        if self.transport.get_write_buffer_size():
            self.transport.abort()  # the peer takes no data: closing would wait for it
        else:
            self.transport.close()

    def _refuse(self) -> None:
        self._refused = True
        self.connections.discard(self)
        _refused.note(len(self.connections))
        self.transport.write(self._plain_response(503, OVER_CAPACITY))
        if self.transport.can_write_eof():
            # Half-closed: the client reads the answer and its end of the stream.
            self.transport.write_eof()
            self._deadline = self.loop.call_later(REFUSED_LINGER_SECONDS, self.transport.abort)
        else:
            self.transport.close()

    def _plain_response(self, status: int, body: bytes) -> bytes:
        lines = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            lines += [name, b": ", value, b"\r\n"]
        lines += [
            b"content-type: text/plain; charset=utf-8\r\n",
            b"content-length: %d\r\n" % len(body),
            b"connection: close\r\n\r\n",
            body,
        ]
        return b"".join(lines)
