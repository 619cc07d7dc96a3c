"""Fixtures: real servers on MariaDB + Redis and on the embedded default, and clients."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.support.client import PASSWORD, GraphQLClient, log_in, sign_up
from tests.support.server import Server, run_cli
from tests.support.services import MARIADB_URL, REDIS_URL, MariaDB, redis_prefix, require

BACKENDS = ("mariadb", "embedded")
# Every shared server starts with these two admins (made with `ticketing create-admin`).
ADMIN_EMAILS = ("admin@example.test", "agent@example.test")
_emails = itertools.count()


@pytest.fixture(scope="session")
def mariadb() -> Iterator[MariaDB]:
    require("MariaDB", MARIADB_URL, 3306)
    databases = MariaDB()
    yield databases
    databases.drop_all()


@pytest.fixture(scope="session")
def redis_url() -> str:
    require("Redis", REDIS_URL, 6379)
    return REDIS_URL


def backend_env(
    backend: str, request: pytest.FixtureRequest, workdir: Path, purpose: str
) -> dict[str, str]:
    """The environment of a server on `backend`, with its own database and key prefix."""
    if backend == "embedded":
        return {"DATABASE_URL": f"sqlite://{workdir / f'{purpose}.sqlite3'}"}
    databases: MariaDB = request.getfixturevalue("mariadb")
    redis: str = request.getfixturevalue("redis_url")
    env = {
        "DATABASE_URL": databases.create_database(purpose),
        "REDIS_URL": redis,
        "REDIS_PREFIX": redis_prefix(purpose),
    }
    migrated = run_cli("migrate", env=env, cwd=workdir)
    assert migrated.returncode == 0, migrated.stderr
    return env


@pytest.fixture(scope="session", params=BACKENDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """One server per backend for the whole run; tests keep apart by unique emails."""
    workdir = tmp_path_factory.mktemp(f"server-{request.param}")
    env = backend_env(request.param, request, workdir, "shared")
    running = Server(env, workdir).start()
    for email in ADMIN_EMAILS:
        made = run_cli(
            "create-admin", "--email", email, "--password", PASSWORD, env=running.env, cwd=workdir
        )
        assert made.returncode == 0, made.stderr
    yield running
    running.stop()


class ServerFactory:
    """Starts servers of their own, for tests that change settings or break things."""

    def __init__(self, request: pytest.FixtureRequest, tmp: pytest.TempPathFactory) -> None:
        self._request = request
        self._tmp = tmp
        self.started: list[Server] = []

    def __call__(self, backend: str, workers: int = 1, **env: str) -> Server:
        workdir = self._tmp.mktemp(f"server-{backend}")
        purpose = f"own{len(self.started)}_{uuid.uuid4().hex[:6]}"
        running = Server(
            {**backend_env(backend, self._request, workdir, purpose), **env}, workdir, workers
        )
        self.started.append(running.start())
        return running

    def cluster(self, count: int = 2, **env: str) -> list[Server]:
        """Several processes on one MariaDB database and one Redis, as in production."""
        servers = [self("mariadb", **env)]
        for _ in range(count - 1):
            servers.append(Server(servers[0].env, servers[0].workdir).start())
            self.started.append(servers[-1])
        return servers

    def stop_all(self) -> None:
        for running in self.started:
            running.stop()


@pytest.fixture
def make_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerFactory]:
    factory = ServerFactory(request, tmp_path_factory)
    yield factory
    factory.stop_all()


@pytest.fixture
async def client(server: Server) -> AsyncIterator[GraphQLClient]:
    async with GraphQLClient(server.graphql_url) as graphql:
        yield graphql


@pytest.fixture
async def admin_client(server: Server) -> AsyncIterator[GraphQLClient]:
    """Signed in as the first of the shared server's admins."""
    async with GraphQLClient(server.graphql_url) as graphql:
        await log_in(graphql, ADMIN_EMAILS[0])
        yield graphql


@pytest.fixture
async def user_client(server: Server, unique_email: str) -> AsyncIterator[GraphQLClient]:
    """Signed up as a fresh USER (the email is `unique_email`, lower-cased)."""
    async with GraphQLClient(server.graphql_url) as graphql:
        await sign_up(graphql, unique_email)
        yield graphql


@pytest.fixture
def unique_email() -> str:
    return f"user{next(_emails)}-{uuid.uuid4().hex[:8]}@Example.com"
