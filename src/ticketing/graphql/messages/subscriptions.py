"""`messageAdded`: live chat that a reconnecting client resumes without a gap.

The stream remembers the last id it sent. Each live event names the ticket's
previous message id; when that is not the last id sent (an event was lost in
an outage, or two instances published out of order) the stream reads what it
missed from the database before going on. Ids at or below the last one sent
are dropped, so nothing repeats.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from ticketing.graphql.context import Info
from ticketing.graphql.live import listening
from ticketing.graphql.messages.types import Message
from ticketing.ids import input_id
from ticketing.messages import service as messages
from ticketing.realtime import channels, events
from ticketing.realtime.hub import Message as Delivery
from ticketing.tickets import service as tickets

REPLAY_BATCH = 100


async def _stored_after(ticket_id: int, after_id: int | None) -> AsyncGenerator[Message, None]:
    while True:
        batch = await messages.messages_after(
            ticket_id=ticket_id, after_id=after_id, limit=REPLAY_BATCH
        )
        for message in batch:
            yield Message.from_model(message)
        if len(batch) < REPLAY_BATCH:
            return
        after_id = batch[-1].id


@strawberry.type
class MessageSubscription:
    @strawberry.subscription(
        description="New messages of a ticket; with `after`, first those stored after that id."
    )
    async def message_added(
        self, info: Info, ticket_id: strawberry.ID, after: strawberry.ID | None = None
    ) -> AsyncGenerator[Message, None]:
        principal = await info.context.require_principal()
        viewer = principal.user
        ticket = await tickets.visible_ticket(viewer=viewer, ticket_id=ticket_id)
        # Without `after` the stream starts at the newest message now; anything
        # committed from here on reaches it, live or through the gap check.
        last_sent = (
            input_id(after, "after") if after is not None else await messages.latest_id(ticket.id)
        )
        async with listening(
            info.context, principal, channels.ticket_messages(ticket.id)
        ) as deliveries:
            # Listening already: what is committed during the replay is queued.
            if after is not None:
                async for message in _stored_after(ticket.id, last_sent):
                    yield message
                    last_sent = int(message.id)
            async for delivery in deliveries:
                if isinstance(delivery, Delivery):
                    event = events.decode_message(delivery.data)
                    if not (viewer.is_admin or event.ticket_owner_id == viewer.id):
                        continue
                    if last_sent is not None and event.message.id <= last_sent:
                        continue
                    if event.previous_id == last_sent:
                        yield Message.from_event(event)
                        last_sent = event.message.id
                        continue
                # A gap: read what was missed (this event included) from the database.
                async for message in _stored_after(ticket.id, last_sent):
                    yield message
                    last_sent = int(message.id)
