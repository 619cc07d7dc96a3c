"""The embedded SQLite database's schema: built from the models, and brought up to date.

aerich's migrations are MySQL DDL, so SQLite gets its tables from the models
(`generate_schemas(safe=True)` creates only what is missing). That never adds a
column to a table an earlier version created, so the columns added since are
added here, with what their migrations do to existing rows.
"""

from __future__ import annotations

import logging

from tortoise import Tortoise, connections
from tortoise.backends.base.client import BaseDBAsyncClient

from ticketing.users.emails import email_key

logger = logging.getLogger("ticketing.migrate")


async def ensure_sqlite_schema() -> None:
    await Tortoise.generate_schemas(safe=True)
    client = connections.get("default")
    if "email_key" not in await _columns(client, "users"):
        await _add_email_keys(client)


async def _columns(client: BaseDBAsyncClient, table: str) -> set[str]:
    return {row["name"] for row in await client.execute_query_dict(f"PRAGMA table_info({table})")}


async def _add_email_keys(client: BaseDBAsyncClient) -> None:
    """As migration 1 (email_key) does on MySQL: the oldest account keeps a shared key."""
    await client.execute_script("ALTER TABLE users ADD COLUMN email_key VARCHAR(64)")
    owners: dict[str, int] = {}
    for row in await client.execute_query_dict("SELECT id, email FROM users ORDER BY id"):
        key = email_key(row["email"])
        kept = owners.setdefault(key, row["id"])
        if kept != row["id"]:
            logger.warning(
                "Users %s and %s have emails that are now the same identity; user %s keeps "
                "it and user %s can no longer log in with that email until it is changed.",
                kept,
                row["id"],
                kept,
                row["id"],
            )
            key = f"duplicate:{kept}:{row['id']}"
        await client.execute_query("UPDATE users SET email_key = ? WHERE id = ?", [key, row["id"]])
    await client.execute_script(
        "CREATE UNIQUE INDEX IF NOT EXISTS uid_users_email_key ON users (email_key)"
    )
