from __future__ import annotations

from collections.abc import AsyncGenerator
from functools import partial

import strawberry

from ticketing.activity.models import LogLevel
from ticketing.graphql.activity.types import LogEntry
from ticketing.graphql.context import Info
from ticketing.graphql.live import listening
from ticketing.graphql.shared_execution import shared_root
from ticketing.realtime import channels, events
from ticketing.realtime.hub import Message
from ticketing.users.permissions import require_admin


@strawberry.type
class ActivitySubscription:
    @strawberry.subscription(description="New log entries at or above `minLevel`; ADMIN only.")
    async def log_added(
        self, info: Info, min_level: LogLevel | None = LogLevel.INFO
    ) -> AsyncGenerator[LogEntry, None]:
        principal = await info.context.require_principal()
        require_admin(principal.user)
        threshold = min_level or LogLevel.INFO
        async with listening(info.context, principal, channels.LOGS) as deliveries:
            async for delivery in deliveries:
                if isinstance(delivery, Message):
                    event = delivery.shared("log", partial(events.decode_log, delivery.data))
                    if event.entry.level >= threshold:
                        yield shared_root(delivery, "LogEntry", partial(LogEntry.from_event, event))
