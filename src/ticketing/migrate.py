"""`ticketing migrate`: apply the aerich migrations (MySQL) or build the SQLite schema."""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path

from aerich import Command
from tortoise import Tortoise

from ticketing.configuration import service as configuration
from ticketing.db import config_for
from ticketing.settings import Settings
from ticketing.sqlite_schema import ensure_sqlite_schema

logger = logging.getLogger(__name__)

AERICH_APP = "models"


def migrations_location() -> Path:
    """The wheel ships them as package data; a source checkout has them at the top level."""
    packaged = Path(str(resources.files("ticketing") / "_migrations"))
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "migrations"


async def migrate(settings: Settings) -> list[str]:
    """Bring the database up to date; returns the migrations applied (none the second time)."""
    config = config_for(settings)
    if not settings.uses_mysql:
        await Tortoise.init(config=config)
        try:
            await ensure_sqlite_schema()
            await configuration.ensure_defaults()
        finally:
            await Tortoise.close_connections()
        return []
    command = Command(tortoise_config=config, app=AERICH_APP, location=str(migrations_location()))
    await command.init()
    try:
        return list(await command.upgrade(run_in_transaction=True))
    finally:
        await Tortoise.close_connections()
