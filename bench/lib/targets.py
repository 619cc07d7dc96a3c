"""What the fan-out clients connect to: our server, and the two reference servers.

Each target says where to connect, how to authenticate, how the sender
publishes to it, and which processes serve it (for CPU and spread figures).
The references get the very frames our server sent (captured during its
warm-up), with only the body swapped, so every target moves the same bytes.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from lib import stores
from lib.deployment import LOGS, Deployment
from lib.processes import ManagedProcess, free_port, listening_sockets, port_accepts
from lib.protocol import BODY_SLOT
from lib.routes import fan_out_routes

BENCH = Path(__file__).resolve().parents[1]
READY_SECONDS = 60.0
PROCESSES = 2  # as our server's --workers 2


class Target:
    name = ""
    ws_url = ""

    def start(self, clients: int) -> None:
        """Get ready for `clients` client processes."""

    def stop(self) -> None: ...

    def sender_config(self) -> dict[str, Any]:
        raise NotImplementedError

    def init_payloads(self, clients: int) -> list[dict[str, Any]]:
        return [{} for _ in range(clients)]

    def server(self) -> ManagedProcess:
        raise NotImplementedError

    def routes(self, workers: int) -> dict[str, float] | None:
        """How its deliveries went so far (lib/routes.py); None: it does not say."""
        return None


@dataclass
class Ours(Target):
    """The real server of the deployment, over HTTP for sending and WebSocket for receiving."""

    deployment: Deployment
    name: str = "ours"
    tokens: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.ws_url = self.deployment.ws_url

    def start(self, clients: int) -> None:
        # Logged in now, so the access tokens (15 minutes) are fresh when the
        # sockets connect; one session per client process.
        self.tokens = self.deployment.user_tokens(clients)

    def sender_config(self) -> dict[str, Any]:
        return {
            "kind": "graphql",
            "url": self.deployment.graphql_url,
            "token": self.deployment.admin_token,
            "ticket_id": self.deployment.ticket_id,
        }

    def init_payloads(self, clients: int) -> list[dict[str, Any]]:
        return [{"authorization": f"Bearer {token}"} for token in self.tokens[:clients]]

    def server(self) -> ManagedProcess:
        return self.deployment.server

    def routes(self, workers: int) -> dict[str, float] | None:
        return fan_out_routes(self.deployment.base_url, workers)


def templates(sample_frame: str) -> tuple[str, str]:
    """From a `next` frame our server sent: the same frame and the same row, body left open."""
    message = json.loads(sample_frame)["payload"]["data"]["messageAdded"]
    frame = sample_frame.replace(message["body"], BODY_SLOT)
    assert BODY_SLOT in frame, "the sample frame's body was not found verbatim"
    row = json.dumps({**message, "body": BODY_SLOT})
    return frame, row


class _Reference(Target):
    """A reference server in its own processes, fed through a Redis channel of the run."""

    def __init__(self, deployment: Deployment, template: str) -> None:
        self.port = free_port()
        self.ws_url = f"ws://127.0.0.1:{self.port}/graphql"
        self.channel = f"{deployment.redis_prefix}{self.name}"
        self.template = template
        self.workdir = LOGS / f"fanout-{deployment.run_id}"
        self.process: ManagedProcess | None = None

    def sender_config(self) -> dict[str, Any]:
        return {
            "kind": "redis",
            "url": stores.REDIS_URL,
            "channel": self.channel,
            "template": self.template,
        }

    def server(self) -> ManagedProcess:
        assert self.process is not None
        return self.process

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None


class Ceiling(_Reference):
    name = "ceiling"

    def start(self, clients: int) -> None:
        self.process = ManagedProcess(
            self.name,
            [
                sys.executable,
                str(BENCH / "reference_ws_broadcast.py"),
                "--port",
                str(self.port),
                "--processes",
                str(PROCESSES),
                "--redis-url",
                stores.REDIS_URL,
                "--channel",
                self.channel,
            ],
            {"PATH": "/usr/bin:/bin"},
            self.workdir,
            self.workdir / "ceiling.log",
        ).start()
        # Every process listening, not just the first: the kernel spreads new
        # connections only over the sockets that exist when they arrive.
        self.process.wait_until(
            lambda: listening_sockets(self.port) >= PROCESSES and port_accepts(self.port),
            READY_SECONDS,
        )


class Naive(_Reference):
    name = "naive"

    def start(self, clients: int) -> None:
        self.process = ManagedProcess(
            self.name,
            [
                sys.executable,
                "-m",
                "uvicorn",
                "reference_naive:create_app",
                "--factory",
                "--app-dir",
                str(BENCH),
                "--port",
                str(self.port),
                "--workers",
                str(PROCESSES),
                # As `ticketing serve` runs uvicorn.
                "--loop",
                "uvloop",
                "--http",
                "httptools",
                "--ws",
                "websockets-sansio",
                "--ws-per-message-deflate",
                "false",
                "--log-level",
                "warning",
            ],
            {
                "PATH": "/usr/bin:/bin",
                "BENCH_REDIS_URL": stores.REDIS_URL,
                "BENCH_CHANNEL": self.channel,
            },
            self.workdir,
            self.workdir / "naive.log",
        ).start()
        # Every worker started, not just the first (each /healthz answer is a new
        # connection, taken by whichever worker accepts it first).
        url = f"http://127.0.0.1:{self.port}/healthz"
        seen: set[str] = set()
        self.process.wait_until(lambda: _answering_pids(url, seen) >= PROCESSES, READY_SECONDS)


def _answering_pids(url: str, seen: set[str]) -> int:
    try:
        response = httpx.get(url, timeout=1)
        if response.status_code == 200:
            seen.add(response.text)
    except httpx.HTTPError:
        pass
    return len(seen)
