"""A real server under test: `ticketing serve` in its own process, as production runs it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

TEST_JWT_SECRET = "test-secret-for-the-test-suite-only-0123456789"
CRASH_MARKS = ("Traceback", "Exception in ASGI application", " ERROR ")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_cli(*args: str, env: Mapping[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the `ticketing` command the way an operator would."""
    return subprocess.run(
        [sys.executable, "-m", "ticketing", *args],
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


class Server:
    def __init__(self, env: Mapping[str, str], workdir: Path, workers: int = 1) -> None:
        self.port = free_port()
        self.env = {
            "JWT_SECRET": TEST_JWT_SECRET,
            "LOG_LEVEL": "warning",
            # Tests sign up thousands of users from one address; the sign-up
            # throttle has tests of its own, which set their limit.
            "SIGNUP_MAX_PER_ADDRESS": "1000000",
            **env,
        }
        self.workdir = workdir
        self.workers = workers
        self.log_path = workdir / f"server-{self.port}.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        """The process `ticketing serve` runs in (with one worker, the one that serves)."""
        assert self._process is not None, "the server is not started"
        return self._process.pid

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def graphql_url(self) -> str:
        return f"{self.base_url}/graphql"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    def start(self, timeout: float = 30.0) -> Server:
        log = self.log_path.open("ab")
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ticketing",
                "serve",
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
            ],
            env={**os.environ, **self.env},
            cwd=self.workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()}")
            try:
                if httpx.get(f"{self.base_url}/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server not ready after {timeout}s:\n{self.log()}")

    def stop(self) -> None:
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_offset(self) -> int:
        """Where the log ends now; `crashes_since` reads only what follows."""
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def crashes_since(self, offset: int) -> list[str]:
        """Lines logged after `offset` that tell of a crash: a traceback, an ERROR,
        uvicorn's "Exception in ASGI application"."""
        with self.log_path.open("rb") as log:
            log.seek(offset)
            lines = log.read().decode(errors="replace").splitlines()
        return [line for line in lines if any(mark in line for mark in CRASH_MARKS)]
