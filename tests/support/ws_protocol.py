"""`ticketing serve`'s WebSocket protocol on a fake transport, for unit tests of the protocol."""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn._types import ASGIApplication
from uvicorn.config import Config
from uvicorn.server import ServerState

from ticketing.ws_protocol import WebSocketProtocol


class FakeTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.aborted = False
        self.closing = False
        self.protocol: WebSocketProtocol | None = None

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 50000) if name in ("peername", "sockname") else default

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += data

    def get_write_buffer_size(self) -> int:
        return len(self.written)

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def abort(self) -> None:
        self.aborted = self.closing = True
        assert self.protocol is not None
        asyncio.get_running_loop().call_soon(self.protocol.connection_lost, None)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


HANDSHAKE = (
    b"GET /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
    b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    b"Sec-WebSocket-Version: 13\r\n\r\n"
)


async def connected(
    app: ASGIApplication | Any, deadline: float = 20.0
) -> tuple[WebSocketProtocol, FakeTransport]:
    """A protocol that has completed the handshake with `app` (which must accept)."""
    config = Config(app=app, ws_ping_timeout=deadline, ws_ping_interval=None, lifespan="off")
    config.load()
    protocol = WebSocketProtocol(config=config, server_state=ServerState(), app_state={})
    transport = FakeTransport()
    transport.protocol = protocol
    protocol.connection_made(transport)
    protocol.data_received(HANDSHAKE)
    await asyncio.sleep(0.05)  # the app accepts
    assert protocol.handshake_complete
    return protocol, transport
