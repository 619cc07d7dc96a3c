"""A fresh deployment of the real server, as production runs it, and its teardown.

A unique MariaDB database, `ticketing migrate`, an admin (`ticketing
create-admin`) and a user, and `ticketing serve --workers N` against MariaDB and
Redis (a unique key prefix) with production settings. Teardown drops the
database and deletes the prefix's Redis keys.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from lib import api, stores
from lib.processes import ManagedProcess, free_port

# Fixed, so that a token stays valid in every worker (and in a rerun's logs).
JWT_SECRET = "bench-only-secret-never-used-in-production-0123456789"  # noqa: S105
ADMIN_EMAIL = "bench-admin@example.com"
USER_EMAIL = "bench-user@example.com"
PASSWORD = "bench-password-1234"  # noqa: S105
REPOSITORY = Path(__file__).resolve().parents[2]
# The one departure from production settings: one user holds all S sockets
# here, where production would have S people; a per-user cap on open sockets
# (an abuse limit, where the server has one) must not refuse them.
# /diagnostics: each phase reports how its deliveries went (lib/routes.py); an
# unused route costs nothing per request.
SETTING_OVERRIDES = {
    "WS_MAX_CONNECTIONS_PER_USER": "1000000",
    "SIGNUP_MAX_PER_ADDRESS": "1000000",  # the load clients sign up from one address
    "EXPOSE_DIAGNOSTICS": "true",
}
PASSED_THROUGH = ("PATH", "HOME", "LANG", "TMPDIR", "TZ")
LOGS = REPOSITORY / "bench" / "results" / "logs"


@dataclass
class Deployment:
    run_id: str
    database: str
    redis_prefix: str
    port: int
    server: ManagedProcess
    ticket_id: str = ""
    admin_token: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def graphql_url(self) -> str:
        return f"{self.base_url}/graphql"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    def user_tokens(self, count: int) -> list[str]:
        """One session per client process, as separate browsers would have."""
        return [api.log_in(self.graphql_url, USER_EMAIL, PASSWORD) for _ in range(count)]


def new_run_id() -> str:
    return uuid.uuid4().hex[:10]


def _environment(database_url: str, redis_prefix: str) -> dict[str, str]:
    # Only what a process needs from the shell: any setting exported there
    # (ACCESS_TOKEN_TTL_SECONDS, EXPOSE_SQL_STATEMENT_COUNT...) would change
    # what is measured. Then production settings: no GraphiQL, warnings only.
    inherited = {k: v for k, v in os.environ.items() if k in PASSED_THROUGH or k.startswith("LC_")}
    return {
        **inherited,
        "DATABASE_URL": database_url,
        "REDIS_URL": stores.REDIS_URL,
        "REDIS_PREFIX": redis_prefix,
        "JWT_SECRET": JWT_SECRET,
        "GRAPHIQL": "false",
        "LOG_LEVEL": "warning",
        **SETTING_OVERRIDES,
    }


def _cli(args: list[str], env: dict[str, str], cwd: Path) -> None:
    done = subprocess.run(  # noqa: S603 (argv is ours)
        [sys.executable, "-m", "ticketing", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"ticketing {args[0]} failed:\n{done.stdout}{done.stderr}")


def _ready(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def deployment(workers: int = 2, purpose: str = "bench") -> Iterator[Deployment]:
    run_id = new_run_id()
    database = f"bench_{purpose}_{run_id}"
    redis_prefix = f"bench:{run_id}:"
    # The server runs in its own directory: a `.env` in the repository must not
    # leak into a benchmark's settings.
    workdir = LOGS / f"{purpose}-{run_id}"
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = _environment(stores.create_database(database), redis_prefix)
    server = ManagedProcess(
        "ticketing serve",
        [
            sys.executable,
            "-m",
            "ticketing",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env,
        workdir,
        workdir / "server.log",
    )
    running = Deployment(run_id, database, redis_prefix, port, server)
    try:
        _cli(["migrate"], env, workdir)
        _cli(["create-admin", "--email", ADMIN_EMAIL, "--password", PASSWORD], env, workdir)
        server.start()
        server.wait_until(lambda: _ready(f"{running.base_url}/readyz"), timeout=60)
        user_token = api.sign_up(running.graphql_url, USER_EMAIL, PASSWORD)
        running.ticket_id = api.create_ticket(running.graphql_url, user_token)
        running.admin_token = api.log_in(running.graphql_url, ADMIN_EMAIL, PASSWORD)
        yield running
    finally:
        server.stop()
        stores.drop_database(database)
        stores.delete_redis_keys(redis_prefix)


def check_clean(running: Deployment) -> dict[str, object]:
    """After teardown: nothing of the run is left in MariaDB or Redis."""
    return {
        "database_dropped": not stores.database_exists(running.database),
        "redis_keys_left": stores.redis_keys(running.redis_prefix),
    }
