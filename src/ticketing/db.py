"""The Tortoise configuration, built from the settings; shared by the app, the CLI and aerich."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ticketing.settings import DEFAULT_DATABASE_URL, Settings

MODEL_MODULES = [
    "ticketing.users.models",
    "ticketing.tickets.models",
    "ticketing.messages.models",
    "ticketing.configuration.models",
    "ticketing.activity.models",
]


def connection_url(database_url: str) -> str:
    """The URL with utf8mb4 forced for MySQL, so emoji and CJK survive the connection."""
    if not database_url.startswith("mysql://"):
        return database_url
    parts = urlsplit(database_url)
    query = dict(parse_qsl(parts.query))
    query.setdefault("charset", "utf8mb4")
    return urlunsplit(parts._replace(query=urlencode(query)))


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
