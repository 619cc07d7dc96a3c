"""Reaching the real MariaDB and Redis: required under CI, optional on a laptop."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import pytest

# Under CI (CI set) a missing service fails the run; elsewhere the tests that
# need it are skipped with the reason, so a fresh clone's test command still runs.
SERVICES_REQUIRED = os.environ.get("CI", "").lower() not in ("", "0", "false", "no")
MARIADB_URL = os.environ.get("TEST_MARIADB_URL", "mysql://root:@127.0.0.1:3306/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
# One id per test run: database names and Redis key prefixes carry it, so runs
# (a laptop's and CI's, or two at once) never see each other's data.
RUN_ID = uuid.uuid4().hex[:10]


def _answers(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 2
        ):
            return True
    except OSError:
        return False


def require(name: str, url: str, default_port: int) -> None:
    if _answers(url, default_port):
        return
    message = f"{name} does not answer at {url}"
    if SERVICES_REQUIRED:
        pytest.fail(f"{message}, and CI requires it", pytrace=False)
    pytest.skip(f"{message}; start it (see README) to run these tests")


def _server_url(database: str | None) -> str:
    parts = urlsplit(MARIADB_URL)
    return parts._replace(path=f"/{database}" if database else "/").geturl()


def _run_sql(sql: str) -> None:
    """Run one statement from sync code, even while a test's event loop is running."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, _execute(sql)).result()


async def fetch(database_url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Run one statement on a MariaDB URL (no database: the server) and return its rows."""
    import asyncmy  # the driver the service itself uses

    parts = urlsplit(database_url)
    connection = await asyncmy.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 3306,
        user=parts.username or "root",
        password=parts.password or "",
        database=parts.path.lstrip("/") or None,
        autocommit=True,
    )
    try:
        async with connection.cursor() as cursor:
            await cursor.execute(sql, params or None)
            return list(await cursor.fetchall())
    finally:
        connection.close()


async def _execute(sql: str) -> None:
    await fetch(_server_url(None), sql)


class MariaDB:
    """Creates uniquely named databases for one test run and drops them afterwards."""

    def __init__(self) -> None:
        self._created: list[str] = []

    def create_database(self, purpose: str, collation: str = "utf8mb4_unicode_ci") -> str:
        name = f"ticketing_{purpose}_{RUN_ID}_{len(self._created)}"
        _run_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE {collation}")
        self._created.append(name)
        return _server_url(name)

    def drop_all(self) -> None:
        for name in self._created:
            _run_sql(f"DROP DATABASE IF EXISTS `{name}`")
        self._created.clear()


def redis_prefix(purpose: str) -> str:
    return f"test:{RUN_ID}:{purpose}:"


async def run_sql(database_url: str, sql: str) -> None:
    """Run one statement in a test server's own database (to break it on purpose)."""
    if database_url.startswith("sqlite://"):
        import sqlite3

        with sqlite3.connect(database_url.removeprefix("sqlite://")) as connection:
            connection.execute(sql)
        return
    await fetch(database_url, sql)
