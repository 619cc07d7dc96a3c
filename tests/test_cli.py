"""The `ticketing` command, run as an operator runs it: in its own process."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.support.client import PASSWORD
from tests.support.server import TEST_JWT_SECRET, run_cli
from tests.support.services import MariaDB, fetch
from ticketing.auth.passwords import MIN_PASSWORD_LENGTH
from ticketing.users.emails import email_key

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schema.graphql"
ADMIN_EMAIL = "Root@Example.com"
SHORT_SECRET = "too-short-secret"
SHORT_SECRET_ERROR = "ticketing: JWT_SECRET must be at least 32 bytes long"

USERS = "SELECT email, role, password_hash FROM users ORDER BY id"
INSERT_USER = """
INSERT INTO users (email, email_key, password_hash, display_name, role, created_at)
VALUES ('agent@example.com', ?, 'kept-hash', 'Agent', 'USER', '2025-01-01 00:00:00+00:00')
"""
MYSQL_ROLE = "SELECT role FROM users WHERE email = %s"


def embedded(tmp_path: Path, **extra: str) -> dict[str, str]:
    """An environment on an embedded database in tmp_path, whatever the caller's shell holds."""
    return {
        "DATABASE_URL": f"sqlite://{tmp_path / 'x.sqlite3'}",
        "REDIS_URL": "",
        "JWT_SECRET": TEST_JWT_SECRET,
        "LOG_LEVEL": "warning",
        **extra,
    }


def users(tmp_path: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(tmp_path / "x.sqlite3") as db:
        return db.execute(USERS).fetchall()


def create_admin(env: dict[str, str], cwd: Path, password: str = PASSWORD) -> Any:
    return run_cli("create-admin", "--email", ADMIN_EMAIL, "--password", password, env=env, cwd=cwd)


def test_export_schema_prints_the_committed_schema(tmp_path: Path) -> None:
    # given no configuration at all, not even a valid secret
    # when the schema is exported
    result = run_cli("export-schema", env={"JWT_SECRET": SHORT_SECRET}, cwd=tmp_path)
    # then it prints exactly schema.graphql
    assert result.returncode == 0, result.stderr
    assert result.stdout == SCHEMA_FILE.read_text(encoding="utf-8")


def test_create_admin_creates_an_admin_and_is_idempotent(tmp_path: Path) -> None:
    # given an embedded database that does not exist yet
    env = embedded(tmp_path)
    # when create-admin runs
    first = create_admin(env, tmp_path)
    # then the admin exists, with a normalised email and a hashed password
    assert first.returncode == 0, first.stderr
    assert "ticketing: admin root@example.com created" in first.stdout
    [(email, role, password_hash)] = users(tmp_path)
    assert (email, role) == ("root@example.com", "ADMIN")
    assert password_hash.startswith("$argon2id$")
    assert PASSWORD not in password_hash

    # when it runs again, even with another password
    again = create_admin(env, tmp_path, password="another password")
    # then it succeeds, keeps the one account and leaves its password alone
    assert again.returncode == 0, again.stderr
    assert "ticketing: admin root@example.com is now an admin" in again.stdout
    assert users(tmp_path) == [(email, "ADMIN", password_hash)]


def test_create_admin_promotes_an_existing_user(tmp_path: Path) -> None:
    # given a migrated embedded database holding an ordinary user
    env = embedded(tmp_path)
    migrated = run_cli("migrate", env=env, cwd=tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    with sqlite3.connect(tmp_path / "x.sqlite3") as db:
        db.execute(INSERT_USER, (email_key("agent@example.com"),))
    # when create-admin names that user
    result = run_cli(
        "create-admin",
        "--email",
        "Agent@example.com",
        "--password",
        PASSWORD,
        env=env,
        cwd=tmp_path,
    )
    # then the user becomes an admin and keeps their password
    assert result.returncode == 0, result.stderr
    assert "ticketing: admin agent@example.com is now an admin" in result.stdout
    assert users(tmp_path) == [("agent@example.com", "ADMIN", "kept-hash")]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ("--email", ADMIN_EMAIL, "--password", "x" * (MIN_PASSWORD_LENGTH - 1)),
            f"ticketing: The password needs at least {MIN_PASSWORD_LENGTH} characters.",
            id="short-password",
        ),
        pytest.param(
            ("--email", "not-an-email", "--password", PASSWORD),
            "ticketing: Enter a valid email address.",
            id="bad-email",
        ),
    ],
)
def test_create_admin_refuses_invalid_input(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    # given an embedded database
    # when create-admin gets input the contract refuses
    result = run_cli("create-admin", *args, env=embedded(tmp_path), cwd=tmp_path)
    # then it fails with the reason and creates nobody
    assert result.returncode == 1, result.stdout + result.stderr
    assert message in result.stderr
    assert users(tmp_path) == []


@pytest.mark.services
def test_create_admin_on_a_migrated_mariadb(mariadb: MariaDB, tmp_path: Path) -> None:
    # given a fresh MariaDB database, migrated
    env = {**embedded(tmp_path), "DATABASE_URL": mariadb.create_database("cli_admin")}
    migrated = run_cli("migrate", env=env, cwd=tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    # when create-admin runs against it
    result = create_admin(env, tmp_path)
    # then the row holds the admin role
    assert result.returncode == 0, result.stderr
    rows = asyncio.run(fetch(env["DATABASE_URL"], MYSQL_ROLE, "root@example.com"))
    assert rows == [("ADMIN",)]


def test_serve_with_several_workers_needs_redis(tmp_path: Path) -> None:
    # given no REDIS_URL
    # when two workers are asked for
    result = run_cli("serve", "--workers", "2", env=embedded(tmp_path), cwd=tmp_path)
    # then the server refuses to start, naming what is missing
    assert result.returncode == 2, result.stdout + result.stderr
    assert "REDIS_URL" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("migrate",), id="migrate"),
        pytest.param(("serve",), id="serve"),
        pytest.param(("create-admin", "--email", ADMIN_EMAIL, "--password", PASSWORD), id="admin"),
    ],
)
def test_short_jwt_secret_stops_every_command(tmp_path: Path, args: tuple[str, ...]) -> None:
    # given a JWT_SECRET under 32 bytes
    env = embedded(tmp_path, JWT_SECRET=SHORT_SECRET)
    # when a command that reads the settings runs
    result = run_cli(*args, env=env, cwd=tmp_path)
    # then it exits 2 with the reason, before touching the database
    assert result.returncode == 2, result.stdout + result.stderr
    assert SHORT_SECRET_ERROR in result.stderr
    assert not (tmp_path / "x.sqlite3").exists()


def test_env_file_in_the_working_directory_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a .env file with a short secret, and no JWT_SECRET in the real environment
    monkeypatch.delenv("JWT_SECRET", raising=False)
    (tmp_path / ".env").write_text(f"JWT_SECRET={SHORT_SECRET}\n")
    env = {k: v for k, v in embedded(tmp_path).items() if k != "JWT_SECRET"}
    # when a command runs there
    result = run_cli("migrate", env=env, cwd=tmp_path)
    # then the file's value was used, and refused
    assert result.returncode == 2, result.stdout + result.stderr
    assert SHORT_SECRET_ERROR in result.stderr
