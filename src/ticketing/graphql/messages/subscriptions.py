"""`messageAdded`: live chat that a reconnecting client resumes without a gap.

The stream remembers the last id it sent. Each live event names the ticket's
previous message id; when that is not the last id sent (an event was lost in
an outage, or two instances published out of order) the stream reads what it
missed from the database before going on. Ids at or below the last one sent
are dropped, so nothing repeats.

The subscribers of a ticket in one process share their work: one decoded
event and one GraphQL object per event (`shared_root`), one execution and one
serialization per audience, written to every waiting socket from one loop
(`direct_frames`), and one database read for the same gap, the same resume
point, or the ticket's owner when they connect together (`Services.reads`).
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator
from enum import Enum
from functools import partial

import strawberry

from ticketing.bounded import keep
from ticketing.graphql.context import Info
from ticketing.graphql.direct_frames import FrameSink, frame_sink
from ticketing.graphql.live import listening
from ticketing.graphql.messages.types import Message
from ticketing.graphql.shared_execution import share, shared_root
from ticketing.ids import input_id
from ticketing.messages import service as messages
from ticketing.messages.models import Message as MessageModel
from ticketing.realtime import channels, events
from ticketing.realtime.hub import Message as Delivery
from ticketing.realtime.shared_reads import SharedReads
from ticketing.tickets import service as tickets
from ticketing.users.models import User
from ticketing.users.permissions import may_see_ticket_of

REPLAY_BATCH = 100
REPLAYED_KEPT = 1024

# The roots of messages replayed lately, by id. Reads from different resume
# points (and the follow-up reads of a reconnect storm) return the same rows;
# one root per message lets its result be executed once for all of them
# (`share`). A stored message never changes.
_replayed: dict[int, Message] = {}


def _replayed_root(message: MessageModel) -> Message:
    root = _replayed.get(message.id)
    if root is None:
        root = keep(_replayed, message.id, share(Message.with_author(message)), REPLAYED_KEPT)
    return root


async def _read_after(ticket_id: int, after_id: int | None) -> list[Message]:
    batch = await messages.messages_after(
        ticket_id=ticket_id, after_id=after_id, limit=REPLAY_BATCH
    )
    return [_replayed_root(message) for message in batch]


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


async def _send_each(
    sink: FrameSink | None, cursor: ChatCursor, messages: AsyncIterator[Message]
) -> AsyncGenerator[Message, None]:
    """Each of `messages` sent through `sink`, or yielded where it cannot be; the cursor follows."""
    async for message in messages:
        if sink is None or not await sink.send(message):
            yield message
        cursor.last_sent = int(message.id)


def _root(delivery: Delivery) -> Message:
    return shared_root(
        delivery, "Message", partial(Message.from_event, events.message_event(delivery))
    )


class Place(Enum):
    """Where a live event falls for one subscriber."""

    NEXT = "next"  # the message after the last one sent: send it
    SKIP = "skip"  # not the viewer's to see, or sent already
    GAP = "gap"  # something came between: read from the database


class ChatCursor:
    """How far one subscriber's stream has got, shared by its loop and its direct sink."""

    __slots__ = ("_viewer", "last_sent")

    def __init__(self, viewer: User, last_sent: int | None) -> None:
        self._viewer = viewer
        self.last_sent = last_sent

    def place(self, event: events.MessageEvent) -> Place:
        if not may_see_ticket_of(self._viewer, event.ticket_owner_id):
            return Place.SKIP
        if self.last_sent is not None and event.message.id <= self.last_sent:
            return Place.SKIP
        return Place.NEXT if event.previous_id == self.last_sent else Place.GAP


@strawberry.type
class MessageSubscription:
    @strawberry.subscription(
        description="New messages of a ticket; with `after`, first those stored after that id."
    )
    async def message_added(
        self, info: Info, ticket_id: strawberry.ID, after: strawberry.ID | None = None
    ) -> AsyncGenerator[Message, None]:
        principal = await info.context.require_principal()
        reads = info.context.services.reads
        watched = await tickets.watchable_ticket_id(
            viewer=principal.user, ticket_id=ticket_id, reads=reads
        )
        # Without `after` the stream starts at the newest message now; anything
        # committed from here on reaches it, live or through the gap check.
        cursor = ChatCursor(
            principal.user,
            input_id(after, "after") if after is not None else await messages.latest_id(watched),
        )
        channel = channels.ticket_messages(watched)
        async with listening(info.context, principal, channel) as live:

            def sendable(delivery: Delivery) -> bool:
                return (
                    delivery.channel == channel
                    and live.session_checked_lately()
                    and cursor.place(events.message_event(delivery)) is Place.NEXT
                )

            def sent(delivery: Delivery) -> None:
                cursor.last_sent = events.message_event(delivery).message.id

            sink = frame_sink(info, accepts=sendable, root_of=_root, sent=sent)
            # Listening already: what is committed from now on is queued, so the
            # replay needs a read started no earlier than now.
            if after is not None:
                replay = _stored_after(reads, watched, cursor.last_sent, time.monotonic())
                async for message in _send_each(sink, cursor, replay):
                    yield message
            live.send_directly(sink)
            async for delivery in live:
                if isinstance(delivery, Delivery):
                    event = events.message_event(delivery)
                    place = cursor.place(event)
                    if place is Place.SKIP:
                        continue
                    if place is Place.NEXT:
                        root = _root(delivery)
                        if sink is None or not await sink.send(root):
                            yield root
                        cursor.last_sent = event.message.id
                        continue
                    missed_since = delivery.received_at
                else:
                    missed_since = delivery.at
                # A gap: read what was missed (this event included) from the database.
                missed = _stored_after(reads, watched, cursor.last_sent, missed_since)
                async for message in _send_each(sink, cursor, missed):
                    yield message
