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
"""

from __future__ import annotations

import asyncio
import logging

from uvicorn._types import ASGISendEvent

from ticketing.ws_shutdown import GoingAwayOnShutdown

logger = logging.getLogger("ticketing.ws")


class WebSocketProtocol(GoingAwayOnShutdown):
    _aborted = False

    async def send(self, message: ASGISendEvent) -> None:
        if not self.writable.is_set():
            try:
                async with asyncio.timeout(self.config.ws_ping_timeout):
                    await self.writable.wait()
            except TimeoutError:
                self._abort("took no data")
        await super().send(message)  # after an abort: raises ClientDisconnected

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
