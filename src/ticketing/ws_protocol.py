"""The WebSocket protocol `ticketing serve` gives uvicorn: websockets-sansio, subclassed.

It closes with 1001 at shutdown (ticketing/ws_shutdown.py), and drops a peer
that stops reading. uvicorn applies back-pressure: `send` waits while the
transport's buffer is above its high-water mark. It waits without a deadline,
so a client that stops reading holds the sending tasks (and what they hold)
for ever; and `transport.close()` waits for the buffer to drain, so even
closing such a socket (uvicorn's own ping timeout does) leaves it open and the
application is never told. Here a peer that takes none of our data for
`ws_ping_timeout` seconds (the time it also has to answer a ping) is aborted
instead: the TCP connection is reset, uvicorn reports the disconnect to the
application, and everything the connection held is released. A close frame
could not reach it: it would wait behind the data the peer is not reading.

It also offers the application a way to write a text frame at once, without
an ASGI `send` (a task switch, starlette's and uvicorn's bookkeeping and a
framing per call): `scope["extensions"][SEND_TEXT_NOW]`. A live event shared
by thousands of subscribers is written with it from one loop. It declines
(returns False, nothing sent) before the handshake, after a close, and once
DIRECT_BUFFER_LIMIT bytes wait unsent; the application then sends through
ASGI, which waits for the peer (and aborts it as above).
"""

from __future__ import annotations

import asyncio
import logging
import struct
from typing import Any, cast

from uvicorn._types import ASGIReceiveEvent, ASGISendEvent
from websockets.http11 import Request
from websockets.protocol import State

from ticketing.light_async import Flag, Inbox
from ticketing.ws_shutdown import GoingAwayOnShutdown

logger = logging.getLogger("ticketing.ws")

SEND_TEXT_NOW = "ticketing.send_text_now"
# Unsent bytes up to which `send_text_now` still writes. Above uvicorn's
# high-water mark (64 KiB): a client reading a burst a little late is written
# to directly, not handed to the slow path that waits. The cap bounds the
# memory one slow peer holds here.
DIRECT_BUFFER_LIMIT = 256 * 1024
_FIN_TEXT = 0x81  # a final frame (FIN bit) with the text opcode


def text_frame(payload: bytes) -> bytes:
    """A server's single, unmasked text frame (RFC 6455 5.2): header, then `payload`.

    What websockets' `Frame(...).serialize(mask=False, extensions=[])` makes
    (a test compares them), in 0.2 µs instead of 1.3: it runs once per socket
    per live event.
    """
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", _FIN_TEXT, length)
    elif length < 1 << 16:
        header = struct.pack("!BBH", _FIN_TEXT, 126, length)
    else:
        header = struct.pack("!BBQ", _FIN_TEXT, 127, length)
    return header + payload


class WebSocketProtocol(GoingAwayOnShutdown):
    _aborted = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # uvicorn's asyncio.Queue and asyncio.Event, of which it uses only
        # put_nowait/get/empty and set/clear/is_set/wait: ~3.8 KB a socket less.
        self.queue = cast("asyncio.Queue[ASGIReceiveEvent]", Inbox())
        self.writable = cast("asyncio.Event", Flag(is_set=True))

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)  # made only for a handshake that goes on
        if scope is not None:
            scope["extensions"][SEND_TEXT_NOW] = self.send_text_now

    def send_text_now(self, payload: bytes) -> bool:
        """Write one text message now if the socket takes data now; else False, nothing sent.

        `payload` is UTF-8 JSON the application made; permessage-deflate is off
        (`ticketing serve` turns it off), so the frame is the payload as it is.
        """
        if (
            not self.handshake_complete
            or self.close_sent
            or self.disconnected
            or self.initial_response is not None
            or self.transport.get_write_buffer_size() > DIRECT_BUFFER_LIMIT
            or self.conn.state is not State.OPEN
            or self.conn.extensions
            or self.transport.is_closing()
        ):
            return False
        self.transport.write(text_frame(payload))
        return True

    async def send(self, message: ASGISendEvent) -> None:
        if not self.writable.is_set():
            try:
                async with asyncio.timeout(self.config.ws_ping_timeout):
                    await self.writable.wait()
            except TimeoutError:
                self._abort("took no data")
        await super().send(message)  # after an abort: raises ClientDisconnected
        if message["type"] == "websocket.accept" and self.handshake_complete:
            # uvicorn reads the handshake's request and response only until
            # here; a socket lives for hours, so they go (~4 KB a socket). The
            # request's headers are emptied too: websockets' parser keeps the
            # request in its frame for the socket's life (~3 KB; the scope has
            # its own copy of the headers).
            self.request.headers.clear()
            del self.request, self.response

    def keepalive_timeout(self) -> None:
        super().keepalive_timeout()
        if self.transport.get_write_buffer_size():
            self._abort("answered no ping")

    def _abort(self, what: str) -> None:
        if self._aborted or self.disconnected:
            return
        self._aborted = True
        logger.warning(
            "WebSocket peer %s %s for %ss: connection reset",
            self.client,
            what,
            self.config.ws_ping_timeout,
        )
        self.transport.abort()
