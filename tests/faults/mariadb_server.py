"""A private MariaDB server that a test may stop and start again, on the same port and data.

`mariadb-install-db` makes a fresh data directory (root without a password, on
127.0.0.1 only); `mariadbd` then runs on a free port with its own socket, pid
file and log, so stopping it never touches the shared MariaDB the other tests
use. Restarting reuses the data directory, as a real restart would.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.support.private_process import PrivateProcess
from tests.support.server import free_port

INSTALL_TIMEOUT_SECONDS = 60.0
CHARSET = "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
# Small enough to start in a second or two on a 2-core machine next to other tests.
SERVER_OPTIONS = (
    "--skip-log-bin",
    "--innodb-buffer-pool-size=32M",
    "--innodb-log-file-size=16M",
    "--skip-name-resolve",
    "--performance-schema=OFF",
)


def _executable(name: str) -> str | None:
    return shutil.which(name) or next(
        (str(p) for p in (Path("/usr/sbin") / name, Path("/usr/bin") / name) if p.exists()),
        None,
    )


def available() -> str | None:
    """None if a private MariaDB can be made here, else why not."""
    missing = [n for n in ("mariadbd", "mariadb-install-db") if _executable(n) is None]
    return f"not installed: {', '.join(missing)}" if missing else None


class MariaDBServer(PrivateProcess):
    """One `mariadbd` process on `directory`/data, listening on 127.0.0.1:`port` only.

    `kill()` is a crash: InnoDB recovers what was committed when it starts again.
    """

    name = "mariadbd"
    start_timeout_seconds = 30.0
    stop_timeout_seconds = 30.0

    def __init__(self, directory: Path) -> None:
        mariadbd, install = _executable("mariadbd"), _executable("mariadb-install-db")
        if mariadbd is None or install is None:
            raise RuntimeError(f"private MariaDB: {available()}")
        super().__init__(directory, directory / "mariadb.log")
        self.mariadbd = mariadbd
        self.install_db = install
        self.datadir = directory / "data"
        self.socket_path = directory / "mariadb.sock"
        self.port = free_port()

    def url(self, database: str) -> str:
        return f"mysql://root:@127.0.0.1:{self.port}/{database}"

    def install(self) -> MariaDBServer:
        """A fresh data directory; root may log in from 127.0.0.1 without a password."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            subprocess.run(
                [
                    self.install_db,
                    "--no-defaults",
                    f"--datadir={self.datadir}",
                    "--auth-root-authentication-method=normal",
                    "--skip-test-db",
                    "--user=root",
                    *SERVER_OPTIONS,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=INSTALL_TIMEOUT_SECONDS,
                check=True,
            )
        return self

    def command(self) -> list[str]:
        return [
            self.mariadbd,
            "--no-defaults",
            f"--datadir={self.datadir}",
            f"--port={self.port}",
            f"--socket={self.socket_path}",
            f"--pid-file={self.directory / 'mariadb.pid'}",
            "--bind-address=127.0.0.1",
            "--skip-networking=0",
            "--user=root",
            *SERVER_OPTIONS,
        ]

    def start(self) -> MariaDBServer:
        """Start (again) on the same port and data; return once it answers a handshake."""
        if not self.datadir.exists():
            self.install()
        self._launch()
        return self

    def answers(self) -> bool:
        """True once the server sends its handshake (protocol version 10) on the TCP port."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.settimeout(1)
                greeting = sock.recv(5)
        except OSError:
            return False
        return len(greeting) == 5 and greeting[4] == 10

    def create_database(self, name: str) -> str:
        """CREATE DATABASE (through asyncmy, the service's own driver); that database's URL."""
        with ThreadPoolExecutor(max_workers=1) as pool:  # callable from a running event loop
            pool.submit(asyncio.run, self._execute(f"CREATE DATABASE `{name}` {CHARSET}")).result()
        return self.url(name)

    async def _execute(self, sql: str) -> None:
        import asyncmy

        connection = await asyncmy.connect(host="127.0.0.1", port=self.port, user="root")
        try:
            async with connection.cursor() as cursor:
                await cursor.execute(sql)
        finally:
            connection.close()
