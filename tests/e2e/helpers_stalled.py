"""A WebSocket client that stops reading, and what the server process holds meanwhile.

`StalledClient` speaks the protocol by hand over a TCP socket with a tiny
receive buffer (websockets' sans-I/O client makes the frames): it reads the
handshake and `connection_ack`, sends its frames, and then never reads again,
so the server's sends pile up against a full TCP window, as with a client on
a dead network or one that is stuck.
"""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

from tests.support.server import Server

TCP_ESTABLISHED = "01"
RECEIVE_BUFFER_BYTES = 4096  # Linux doubles it; the window stays tiny


class StalledClient:
    def __init__(self, server: Server, protocol: str) -> None:
        self._url = server.ws_url
        self._ws = ClientProtocol(parse_uri(server.ws_url), subprotocols=[Subprotocol(protocol)])
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)
        self._sock.setblocking(False)

    @property
    def port(self) -> int:
        """The client's local port: names the connection in /proc/net/tcp."""
        return int(self._sock.getsockname()[1])

    async def open(self, token: str) -> None:
        """Handshake and `connection_init`; returns once `connection_ack` came (the last read)."""
        loop = asyncio.get_running_loop()
        parts = urlsplit(self._url)
        await loop.sock_connect(self._sock, (parts.hostname, parts.port))
        self._ws.send_request(self._ws.connect())
        await self._flush()
        init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
        async with asyncio.timeout(10):
            while True:
                data = await loop.sock_recv(self._sock, 65536)
                assert data, "the server closed the socket during the handshake"
                self._ws.receive_data(data)
                for event in self._ws.events_received():
                    if isinstance(event, Response):
                        assert event.status_code == 101, event
                        await self.send(init)
                    elif isinstance(event, Frame) and event.opcode == Opcode.TEXT:
                        frame = json.loads(event.data)
                        assert frame["type"] == "connection_ack", frame
                        return

    async def send(self, frame: dict[str, Any]) -> None:
        self._ws.send_text(json.dumps(frame).encode())
        await self._flush()

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        for data in self._ws.data_to_send():
            await loop.sock_sendall(self._sock, data)

    async def drain_until_closed(self, within: float) -> tuple[int, bool]:
        """Read what is left; the bytes read, and whether the server's end closed in time."""
        loop = asyncio.get_running_loop()
        received = 0
        try:
            async with asyncio.timeout(within):
                while data := await loop.sock_recv(self._sock, 1 << 20):
                    received += len(data)
        except ConnectionResetError:
            return received, True
        except TimeoutError:
            return received, False
        return received, True

    def close(self) -> None:
        self._sock.close()


def server_side_state(server: Server, client_port: int) -> str | None:
    """The TCP state of the server's end of the connection from `client_port`; None if gone."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].split(":")[1], 16)
        remote_port = int(fields[2].split(":")[1], 16)
        if local_port == server.port and remote_port == client_port:
            return fields[3]
    return None


def server_pid(server: Server) -> int:
    process = server._process  # the `ticketing serve` process (one worker: uvicorn runs in it)
    assert process is not None
    return process.pid


def resident_mib(pid: int) -> float:
    """The process's resident memory (VmRSS), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for process {pid}")
