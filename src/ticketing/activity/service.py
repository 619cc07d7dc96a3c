"""The activity log: what happened, by whom, stored so that admins can page through it."""

from __future__ import annotations

from ticketing.activity.models import MESSAGE_MAX_LENGTH, LogEntry, LogLevel
from ticketing.pagination import Page, check_first, decode_cursor, page_of
from ticketing.realtime import channels, events
from ticketing.realtime.outbox import Change
from ticketing.users.models import User
from ticketing.users.permissions import require_admin

CURSOR_KIND = "log"


async def record(
    change: Change,
    *,
    level: LogLevel,
    event: str,
    message: str,
    actor: User | None = None,
    ticket_id: int | None = None,
) -> LogEntry:
    """Store one entry in the change's transaction, so both commit or neither does;
    `logAdded` subscribers hear of it once it has committed.

    Callers write the message themselves and never put a password, a token or a
    message body in it.
    """
    entry = await LogEntry.create(
        level=level,
        event=event,
        message=message[:MESSAGE_MAX_LENGTH],
        actor_id=None if actor is None else actor.id,
        ticket_id=ticket_id,
        using_db=change.connection,
    )
    change.outbox.add([channels.LOGS], events.encode_log(entry, actor))
    return entry


async def list_entries(
    *, viewer: User, first: int, after: str | None, min_level: LogLevel
) -> Page[LogEntry]:
    """Newest first, at or above `min_level`; ADMIN only."""
    require_admin(viewer)
    check_first(first)
    query = LogEntry.filter(level__gte=min_level)
    after_id = decode_cursor(CURSOR_KIND, after)
    if after_id is not None:
        query = query.filter(id__lt=after_id)
    return page_of(await query.order_by("-id").limit(first + 1), first)
