"""Run-time configuration: one row, read by every rule that depends on it.

There is no per-instance cache: every read goes to the database (one primary-key
lookup), so a change is in force on every instance the moment it commits.
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.backends.base.client import BaseDBAsyncClient

from ticketing.activity import service as activity
from ticketing.activity.models import LogLevel
from ticketing.configuration.models import SINGLETON_ID, SystemConfiguration
from ticketing.errors import InvalidInput
from ticketing.realtime import channels, events
from ticketing.realtime.broker import Broker
from ticketing.realtime.outbox import change
from ticketing.tickets.models import CATEGORY_MAX_LENGTH
from ticketing.users.models import User
from ticketing.users.permissions import require_admin

MAX_OPEN_TICKETS_RANGE = (1, 1000)
MAX_MESSAGE_LENGTH_RANGE = (1, 100_000)
MAX_CATEGORIES = 50


@dataclass(frozen=True, slots=True)
class ConfigurationChanges:
    """Fields left as None keep their value."""

    registration_open: bool | None = None
    max_open_tickets_per_user: int | None = None
    max_message_length: int | None = None
    ticket_categories: list[str] | None = None


async def current(connection: BaseDBAsyncClient | None = None) -> SystemConfiguration:
    """The configuration in force (the MySQL migration and `ensure_defaults` seed it)."""
    return await SystemConfiguration.get(id=SINGLETON_ID, using_db=connection)


async def ensure_defaults() -> None:
    """Seed the defaults when the row is missing (the embedded SQLite database)."""
    await SystemConfiguration.get_or_create(id=SINGLETON_ID)


def _in_range(value: int, bounds: tuple[int, int], field: str) -> int:
    low, high = bounds
    if not low <= value <= high:
        raise InvalidInput(field, f"`{field}` must be between {low} and {high}.")
    return value


def _categories(names: list[str]) -> list[str]:
    cleaned = [name.strip() for name in names]
    if not 1 <= len(cleaned) <= MAX_CATEGORIES:
        raise InvalidInput("ticketCategories", f"Give 1 to {MAX_CATEGORIES} categories.")
    if any(not name or len(name) > CATEGORY_MAX_LENGTH for name in cleaned):
        raise InvalidInput(
            "ticketCategories",
            f"Each category needs 1 to {CATEGORY_MAX_LENGTH} characters.",
        )
    # "Billing" and "billing" would look like one category to every user.
    if len({name.casefold() for name in cleaned}) != len(cleaned):
        raise InvalidInput("ticketCategories", "The categories must be distinct.")
    return cleaned


def _validated(changes: ConfigurationChanges) -> dict[str, object]:
    updates: dict[str, object] = {}
    if changes.registration_open is not None:
        updates["registration_open"] = changes.registration_open
    if changes.max_open_tickets_per_user is not None:
        updates["max_open_tickets_per_user"] = _in_range(
            changes.max_open_tickets_per_user, MAX_OPEN_TICKETS_RANGE, "maxOpenTicketsPerUser"
        )
    if changes.max_message_length is not None:
        updates["max_message_length"] = _in_range(
            changes.max_message_length, MAX_MESSAGE_LENGTH_RANGE, "maxMessageLength"
        )
    if changes.ticket_categories is not None:
        updates["ticket_categories"] = _categories(changes.ticket_categories)
    return updates


async def update(
    *, actor: User, changes: ConfigurationChanges, broker: Broker
) -> SystemConfiguration:
    """Apply the given fields (ADMIN only); each update increments `version`."""
    require_admin(actor)
    updates = _validated(changes)
    async with change(broker) as work:
        config = (
            await SystemConfiguration.select_for_update()
            .using_db(work.connection)
            .get(id=SINGLETON_ID)
        )
        for name, value in updates.items():
            setattr(config, name, value)
        config.version += 1
        config.updated_by_id = actor.id
        await config.save(using_db=work.connection)
        changed = ", ".join(sorted(updates)) or "nothing"
        await activity.record(
            work,
            level=LogLevel.INFO,
            event="configuration.updated",
            message=f"Configuration version {config.version} by user {actor.id} ({changed}).",
            actor=actor,
        )
        work.outbox.add([channels.CONFIGURATION], events.encode_configuration(config, actor))
    return config
