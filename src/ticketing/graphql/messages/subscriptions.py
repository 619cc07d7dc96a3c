"""`messageAdded`: live chat that a reconnecting client resumes without a gap.

The stream remembers the last id it sent. Each live event names the ticket's
previous message id; when that is not the last id sent (an event was lost in
an outage, or two instances published out of order) the stream reads what it
missed from the database before going on. Ids at or below the last one sent
are dropped, so nothing repeats.

The subscribers of a ticket in one process share their work: one decoded
event and one GraphQL object per event (`shared_root`), and one database read
for the same gap or the same resume point (`Services.reads`).
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator
from functools import partial

import strawberry

from ticketing.graphql.context import Info
from ticketing.graphql.live import listening
from ticketing.graphql.messages.types import Message
from ticketing.graphql.shared_execution import share, shared_root
from ticketing.ids import input_id
from ticketing.messages import service as messages
from ticketing.realtime import channels, events
from ticketing.realtime.hub import Message as Delivery
from ticketing.realtime.shared_reads import SharedReads
from ticketing.tickets import service as tickets

REPLAY_BATCH = 100


async def _read_after(ticket_id: int, after_id: int | None) -> list[Message]:
    batch = await messages.messages_after(
        ticket_id=ticket_id, after_id=after_id, limit=REPLAY_BATCH
    )
    return [share(Message.with_author(message)) for message in batch]


async def _stored_after(
    reads: SharedReads, ticket_id: int, after_id: int | None, not_before: float
) -> AsyncGenerator[Message, None]:
    """What was stored after `after_id`, by a read started at `not_before` or later."""
    while True:
        batch = await reads.get(
            ("messages after", ticket_id, after_id),
            not_before,
            partial(_read_after, ticket_id, after_id),
        )
        for message in batch:
            yield message
        if len(batch) < REPLAY_BATCH:
            return
        after_id = int(batch[-1].id)


def _decoded(delivery: Delivery) -> events.MessageEvent:
    return delivery.shared("message", partial(events.decode_message, delivery.data))


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
        reads = info.context.services.reads
        async with listening(
            info.context, principal, channels.ticket_messages(ticket.id)
        ) as deliveries:
            # Listening already: what is committed from now on is queued, so the
            # replay needs a read started no earlier than now.
            if after is not None:
                listening_since = time.monotonic()
                async for message in _stored_after(reads, ticket.id, last_sent, listening_since):
                    yield message
                    last_sent = int(message.id)
            async for delivery in deliveries:
                if isinstance(delivery, Delivery):
                    event = _decoded(delivery)
                    if not (viewer.is_admin or event.ticket_owner_id == viewer.id):
                        continue
                    if last_sent is not None and event.message.id <= last_sent:
                        continue
                    if event.previous_id == last_sent:
                        yield shared_root(delivery, "Message", partial(Message.from_event, event))
                        last_sent = event.message.id
                        continue
                    missed_since = delivery.received_at
                else:
                    missed_since = delivery.at
                # A gap: read what was missed (this event included) from the database.
                async for message in _stored_after(reads, ticket.id, last_sent, missed_since):
                    yield message
                    last_sent = int(message.id)
