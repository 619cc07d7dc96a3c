"""Fixtures of the fault tests: a Redis and a MariaDB of one's own, to stop and start at will."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.mariadb_server import MariaDBServer, available
from tests.realtime.conftest import private_redis  # noqa: F401  (a fixture: used by name)
from tests.support.services import SERVICES_REQUIRED


@pytest.fixture
def private_mariadb(tmp_path: Path) -> Iterator[MariaDBServer]:
    """A fresh `mariadbd` on a free port and its own data directory, stopped after the test."""
    missing = available()
    if missing is not None:
        message = f"a private MariaDB cannot be made: {missing}"
        if SERVICES_REQUIRED:
            pytest.fail(f"{message}, and CI requires it", pytrace=False)
        pytest.skip(message)
    server = MariaDBServer(tmp_path / "mariadb")
    try:
        yield server.start()
    finally:
        server.stop()
