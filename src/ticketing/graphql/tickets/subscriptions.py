from __future__ import annotations

from collections.abc import AsyncGenerator
from functools import partial

import strawberry

from ticketing.graphql.context import Info
from ticketing.graphql.live import listening
from ticketing.graphql.shared_execution import shared_root
from ticketing.graphql.tickets.types import Ticket, TicketStatusChange
from ticketing.realtime import channels, events
from ticketing.realtime.hub import Message
from ticketing.tickets import service as tickets
from ticketing.users.permissions import may_see_ticket_of, require_admin


def _ticket_of(data: str) -> Ticket:
    return Ticket.from_event(events.decode_ticket(data))


@strawberry.type
class TicketSubscription:
    @strawberry.subscription(description="Every new ticket; ADMIN only.")
    async def ticket_created(self, info: Info) -> AsyncGenerator[Ticket, None]:
        principal = await info.context.require_principal()
        require_admin(principal.user)
        async with listening(info.context, principal, channels.TICKETS_CREATED) as deliveries:
            async for delivery in deliveries:
                if isinstance(delivery, Message):
                    yield shared_root(delivery, "Ticket", partial(_ticket_of, delivery.data))

    @strawberry.subscription(
        description="An admin hears of every change (or one ticket's); a user of their own."
    )
    async def ticket_status_changed(
        self, info: Info, ticket_id: strawberry.ID | None = None
    ) -> AsyncGenerator[TicketStatusChange, None]:
        principal = await info.context.require_principal()
        viewer = principal.user
        if ticket_id is not None:
            watched = await tickets.watchable_ticket_id(
                viewer=viewer, ticket_id=ticket_id, reads=info.context.services.reads
            )
            channel = channels.ticket_status(watched)
        elif viewer.is_admin:
            channel = channels.TICKETS_STATUS
        else:
            channel = channels.owner_status(viewer.id)
        async with listening(info.context, principal, channel) as deliveries:
            async for delivery in deliveries:
                if not isinstance(delivery, Message):
                    continue
                event = delivery.shared(
                    "status change", partial(events.decode_status_change, delivery.data)
                )
                # Checked again for every event: a user never sees another's ticket.
                if may_see_ticket_of(viewer, event.ticket.ticket.owner_id):
                    yield shared_root(
                        delivery,
                        "TicketStatusChange",
                        partial(TicketStatusChange.from_event, event),
                    )
