"""Run-time configuration: one row, read by every rule that depends on it."""

from __future__ import annotations

from tortoise.backends.base.client import BaseDBAsyncClient

from ticketing.configuration.models import SINGLETON_ID, SystemConfiguration

DEFAULT_CATEGORIES = ["General", "Billing", "Technical"]


async def current(connection: BaseDBAsyncClient | None = None) -> SystemConfiguration:
    """The configuration in force (the MySQL migration and `ensure_defaults` seed it)."""
    return await SystemConfiguration.get(id=SINGLETON_ID, using_db=connection)


async def ensure_defaults() -> None:
    """Seed the defaults when the row is missing (the embedded SQLite database)."""
    await SystemConfiguration.get_or_create(
        id=SINGLETON_ID, defaults={"ticket_categories": list(DEFAULT_CATEGORIES)}
    )
