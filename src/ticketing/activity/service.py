"""The activity log: what happened, by whom, stored so that admins can page through it."""

from __future__ import annotations

from tortoise.backends.base.client import BaseDBAsyncClient

from ticketing.activity.models import MESSAGE_MAX_LENGTH, LogEntry, LogLevel


async def record(
    *,
    level: LogLevel,
    event: str,
    message: str,
    actor_id: int | None = None,
    ticket_id: int | None = None,
    connection: BaseDBAsyncClient | None = None,
) -> LogEntry:
    """Store one entry; pass the change's transaction so both commit or neither does.

    Callers write the message themselves and never put a password, a token or a
    message body in it.
    """
    return await LogEntry.create(
        level=level,
        event=event,
        message=message[:MESSAGE_MAX_LENGTH],
        actor_id=actor_id,
        ticket_id=ticket_id,
        using_db=connection,
    )
