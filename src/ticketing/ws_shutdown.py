"""Closing WebSockets with 1001 "going away" when the server stops.

On SIGTERM uvicorn closes every open WebSocket before it waits for in-flight
requests, with 1012 ("service restart"). A server that stops because it is
being scaled down or redeployed is going away: 1001 is the code RFC 6455 gives
for that, and the one client libraries (graphql-ws, Apollo, urql) treat as
"reconnect, possibly elsewhere". Apart from the code, this is uvicorn's own
websockets-sansio shutdown (`ticketing serve` uses a subclass of this class).
"""

from __future__ import annotations

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

GOING_AWAY = 1001


class GoingAwayOnShutdown(WebSocketsSansIOProtocol):
    def shutdown(self) -> None:
        if self.handshake_complete and not self.close_sent and self.conn.state is State.OPEN:
            self.queue.put_nowait({"type": "websocket.disconnect", "code": GOING_AWAY})
            self.conn.send_close(GOING_AWAY)
            self.transport.write(b"".join(self.conn.data_to_send()))
            self.close_sent = True
        # uvicorn's own shutdown: stops keep-alive pings and closes the transport
        # (with the close frame above already sent, it sends no 1012 of its own).
        super().shutdown()
