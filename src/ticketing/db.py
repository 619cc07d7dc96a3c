"""The Tortoise configuration, built from the settings; shared by the app, the CLI and aerich."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tortoise import connections

from ticketing.settings import DEFAULT_DATABASE_URL, Settings

MODEL_MODULES = [
    "ticketing.users.models",
    "ticketing.tickets.models",
    "ticketing.messages.models",
    "ticketing.configuration.models",
    "ticketing.activity.models",
]


# Tortoise's case-insensitive filters compare UPPER(CAST(column AS CHAR)), which
# takes the connection's collation. The charset's default, utf8mb4_general_ci,
# weighs every emoji the same (a search for one finds them all); the UCA 5.2
# collation tells them apart and also matches accents loosely, as search should.
MYSQL_CONNECTION_COLLATION = "utf8mb4_unicode_520_ci"
# Connections per process unless DATABASE_URL says `maxsize`. Tortoise's
# default is 5, and asyncmy's pool lets a request that arrives as a connection
# frees up take it ahead of those already waiting: with 32 requests in flight
# per worker, some waited seconds (sendMessage p99 1.25 s, max 3.2 s, against
# a p50 of 62 ms). With enough connections nobody waits for one (p99 329 ms,
# max 393 ms, the same throughput). The pool opens them only as needed.
MYSQL_POOL_MAXSIZE = 40


def connection_url(database_url: str) -> str:
    """The URL with utf8mb4 forced for MySQL, so emoji and CJK survive the connection,
    and a pool of MYSQL_POOL_MAXSIZE connections unless the URL sets `maxsize`."""
    if not database_url.startswith("mysql://"):
        return database_url
    parts = urlsplit(database_url)
    query = dict(parse_qsl(parts.query))
    query.setdefault("charset", "utf8mb4")
    query.setdefault("maxsize", str(MYSQL_POOL_MAXSIZE))
    query.setdefault("init_command", f"SET collation_connection = {MYSQL_CONNECTION_COLLATION}")
    return urlunsplit(parts._replace(query=urlencode(query)))


def _unicode_upper(value: object) -> object:
    return value.upper() if isinstance(value, str) else value


async def prepare_sqlite() -> None:
    """Give SQLite a Unicode-aware UPPER (its own only knows ASCII), which Tortoise's
    case-insensitive filters use: a search for "ÉTÉ" then finds "été"."""
    client = connections.get("default")
    await client.execute_query("SELECT 1")  # opens the connection
    raw = client._connection  # the aiosqlite connection; Tortoise has no hook for this
    await raw.create_function("upper", 1, _unicode_upper, deterministic=True)


def tortoise_config(database_url: str) -> dict[str, Any]:
    return {
        "connections": {"default": connection_url(database_url)},
        "apps": {
            "models": {
                "models": [*MODEL_MODULES, "aerich.models"],
                "default_connection": "default",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def config_for(settings: Settings) -> dict[str, Any]:
    return tortoise_config(settings.database_url)


# Read by aerich's own CLI (`aerich migrate` while developing), which imports a
# module-level config; the application never uses this and passes Settings instead.
AERICH_CONFIG = tortoise_config(os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL))
