"""The embedded SQLite file of an earlier release is brought up to date, keeping its rows."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.support.client import LOG_IN, PASSWORD, GraphQLClient, log_in
from tests.support.server import Server, run_cli
from ticketing.auth.passwords import hash_password
from ticketing.users.emails import email_key

# The users table as releases before email keys created it (Tortoise, from the models).
OLD_USERS_TABLE = """
CREATE TABLE "users" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "email" VARCHAR(254) NOT NULL UNIQUE,
    "password_hash" VARCHAR(255) NOT NULL,
    "display_name" VARCHAR(100) NOT NULL,
    "role" VARCHAR(16) NOT NULL DEFAULT 'USER',
    "created_at" TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
)
"""
FULL_WIDTH_ADA = "\uff41\uff44\uff41@example.com"


async def _old_database(path: Path, emails: list[str]) -> None:
    password_hash = await hash_password(PASSWORD)
    with sqlite3.connect(path) as connection:
        connection.execute(OLD_USERS_TABLE)
        connection.executemany(
            "INSERT INTO users (email, password_hash, display_name) VALUES (?, ?, 'Old')",
            [(email, password_hash) for email in emails],
        )


def _users(path: Path) -> list[tuple[int, str, str]]:
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT id, email, email_key FROM users ORDER BY id").fetchall()


async def test_an_earlier_release_s_file_gets_email_keys_and_logs_in(tmp_path: Path) -> None:
    # given the file of an earlier release, with two emails that are now one identity
    database = tmp_path / "old.sqlite3"
    await _old_database(database, ["ada@example.com", FULL_WIDTH_ADA, "bob@example.com"])
    env = {"DATABASE_URL": f"sqlite://{database}"}

    # when it is migrated
    migrated = run_cli("migrate", env=env, cwd=tmp_path)

    # then every row keeps its email and has its key; the later twin gets one no email has
    assert migrated.returncode == 0, migrated.stderr
    (ada_id, _, ada_key), (twin_id, twin_email, twin_key), (_, _, bob_key) = _users(database)
    assert (ada_key, bob_key) == (email_key("ada@example.com"), email_key("bob@example.com"))
    assert twin_email == FULL_WIDTH_ADA
    assert twin_key == f"duplicate:{ada_id}:{twin_id}"
    assert f"Users {ada_id} and {twin_id}" in migrated.stderr
    # and a server on it logs people in by identity, and keeps keys unique
    server = Server(env, tmp_path).start()
    try:
        async with GraphQLClient(server.graphql_url) as client:
            bob = await log_in(client, "BOB@example.com")
            wide = await log_in(client, FULL_WIDTH_ADA)
            unknown = await client.execute(
                LOG_IN, {"input": {"email": "nobody@example.com", "password": PASSWORD}}
            )
    finally:
        server.stop()
    assert bob["user"]["email"] == "bob@example.com"
    assert wide["user"]["id"] == str(ada_id)
    assert unknown.codes == ["UNAUTHENTICATED"]
    with sqlite3.connect(database) as connection:
        indexes = connection.execute("PRAGMA index_list(users)").fetchall()
    assert any(unique and "email_key" in name for _, name, unique, *_ in indexes)
