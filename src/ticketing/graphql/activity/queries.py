from __future__ import annotations

import strawberry

from ticketing.activity import service as activity
from ticketing.activity.models import LogLevel
from ticketing.graphql.activity.types import LogEntryConnection
from ticketing.graphql.context import Info
from ticketing.graphql.lookahead import asks_for


@strawberry.type
class ActivityQuery:
    @strawberry.field(description="The activity log, newest first; ADMIN only.")
    async def logs(
        self,
        info: Info,
        first: int | None = 50,
        after: str | None = None,
        min_level: LogLevel | None = LogLevel.INFO,
    ) -> LogEntryConnection:
        page = await activity.list_entries(
            viewer=await info.context.require_user(),
            first=50 if first is None else first,
            after=after,
            min_level=min_level or LogLevel.INFO,
        )
        if asks_for(info, ("edges", "node", "actor")):
            # Every actor answers at once then (see graphql/lookahead.py).
            await info.context.loaders.users_ahead(entry.actor_id for entry in page.items)
        return LogEntryConnection.from_page(page)
