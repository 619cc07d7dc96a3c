"""A private `redis-server` that a test may stop and start again, on the same port.

Persistence is on (an append-only file fsynced on every write, no RDB
snapshots), as a production Redis would have it, so what was stored survives a
restart and only the connections (and pub/sub subscriptions) are lost.
"""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

from tests.support.private_process import PrivateProcess
from tests.support.server import free_port


class RedisServer(PrivateProcess):
    """One `redis-server` process in `directory`, listening on 127.0.0.1 only."""

    name = "redis-server"

    def __init__(self, directory: Path, port: int | None = None) -> None:
        executable = shutil.which("redis-server")
        if executable is None:
            raise RuntimeError("redis-server is not on PATH")
        super().__init__(directory, directory / "redis-server.log")
        self.executable = executable
        self.port = port or free_port()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        return [
            self.executable,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.directory),
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--save",
            "",
            "--daemonize",
            "no",
        ]

    def start(self) -> RedisServer:
        """Start (again) on the same port and directory; return once it answers PING."""
        self._launch()
        return self

    def answers(self) -> bool:
        return self.ping()

    def ping(self) -> bool:
        """True if the server answers PING with PONG (raw RESP, no client library)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False
