"""A private service process a test may stop and start again (a Redis, a MariaDB)."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

POLL_SECONDS = 0.05


class PrivateProcess:
    """Starts `command()` logging to `log_path`, waits until `answers()`; stops on SIGTERM.

    Subclasses say how to run the service and how to tell that it answers.
    """

    name = "process"
    start_timeout_seconds = 10.0
    stop_timeout_seconds = 10.0

    def __init__(self, directory: Path, log_path: Path) -> None:
        self.directory = directory
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def answers(self) -> bool:
        raise NotImplementedError

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _launch(self) -> None:
        """Start (again) and return once it answers."""
        if self.running:
            raise RuntimeError(f"{self.name} is already running")
        self.directory.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                self.command(), cwd=self.directory, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + self.start_timeout_seconds
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._process = None
                raise RuntimeError(f"{self.name} exited at start:\n{self.log()[-3000:]}")
            if self.answers():
                return
            time.sleep(POLL_SECONDS)
        self.stop()
        raise RuntimeError(
            f"{self.name} not answering after {self.start_timeout_seconds}s:\n{self.log()}"
        )

    def stop(self) -> None:
        """SIGTERM (a clean shutdown) and wait for the process to exit."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=self.stop_timeout_seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def kill(self) -> None:
        """SIGKILL: a crash."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
