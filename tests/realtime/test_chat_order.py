"""ChatOrder: a ticket's chat events fan out in commit order, whatever order they arrive in."""

from __future__ import annotations

import asyncio
import json

import pytest

from ticketing.realtime import channels, ordering
from ticketing.realtime.hub import Message
from ticketing.realtime.ordering import ChatOrder

CHAT = channels.ticket_messages(7)
OTHER_CHAT = channels.ticket_messages(8)
HOLD = 0.05  # HOLD_SECONDS in these tests


def chat_event(message_id: int, previous_id: int | None, channel: str = CHAT) -> Message:
    """What sendMessage publishes (events.encode_message), written out by hand."""
    moment = "2026-11-23T00:00:00+00:00"
    author = {
        "id": 1,
        "email": "admin@example.test",
        "display_name": "Admin",
        "role": "ADMIN",
        "created_at": moment,
    }
    data = {
        "id": message_id,
        "ticket_id": 7,
        "author": author,
        "body": f"message {message_id}",
        "created_at": moment,
        "ticket_owner_id": 2,
        "previous_id": previous_id,
    }
    return Message(channel, json.dumps(data))


class Released(list[Message]):
    def ids(self) -> list[int | str]:
        return [json.loads(m.data)["id"] if m.data.startswith("{") else m.data for m in self]


@pytest.fixture(autouse=True)
def short_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ordering, "HOLD_SECONDS", HOLD)


async def test_events_in_order_go_out_at_once() -> None:
    released = Released()
    order = ChatOrder(released.append)

    for message_id, previous_id in [(1, None), (2, 1), (3, 2)]:
        order.push(chat_event(message_id, previous_id))

    assert released.ids() == [1, 2, 3]


async def test_an_event_ahead_of_its_predecessor_waits_for_it() -> None:
    released = Released()
    order = ChatOrder(released.append)
    order.push(chat_event(1, None))

    order.push(chat_event(3, 2))  # 2 was published later by another process
    order.push(chat_event(4, 3))
    assert released.ids() == [1]

    order.push(chat_event(2, 1))
    assert released.ids() == [1, 2, 3, 4]
    assert (order.held, order.released_late) == (2, 0)


async def test_what_waits_for_a_lost_predecessor_goes_out_after_the_hold() -> None:
    released = Released()
    order = ChatOrder(released.append)
    order.push(chat_event(1, None))
    order.push(chat_event(4, 3))
    order.push(chat_event(3, 2))  # 2 never comes (its publish failed)

    await asyncio.sleep(HOLD / 2)
    assert released.ids() == [1]
    await asyncio.sleep(HOLD)

    # oldest first; each subscriber then reads the missing one from the database
    assert released.ids() == [1, 3, 4]
    order.push(chat_event(5, 4))  # and the ticket goes on in order
    assert released.ids() == [1, 3, 4, 5]
    assert (order.held, order.released_late) == (2, 2)


async def test_old_and_repeated_events_go_out_at_once() -> None:
    released = Released()
    order = ChatOrder(released.append)
    order.push(chat_event(5, 4))
    order.push(chat_event(3, 2))
    order.push(chat_event(5, 4))

    assert released.ids() == [5, 3, 5]  # subscribers drop what they have sent


async def test_each_ticket_is_ordered_on_its_own() -> None:
    released = Released()
    order = ChatOrder(released.append)
    order.push(chat_event(1, None))
    order.push(chat_event(10, None, OTHER_CHAT))
    order.push(chat_event(3, 2))  # held: waits for 2 on CHAT only

    order.push(chat_event(11, 10, OTHER_CHAT))

    assert released.ids() == [1, 10, 11]


async def test_other_channels_and_unreadable_events_go_out_at_once() -> None:
    released = Released()
    order = ChatOrder(released.append)

    order.push(Message(channels.TICKETS_CREATED, "not a chat event"))
    order.push(Message(CHAT, "not json"))

    assert released.ids() == ["not a chat event", "not json"]


async def test_a_restart_releases_what_is_held_and_expects_nothing() -> None:
    released = Released()
    order = ChatOrder(released.append)
    order.push(chat_event(1, None))
    order.push(chat_event(3, 2))

    order.restart()  # the broker reconnected: events may have been lost
    assert released.ids() == [1, 3]
    order.push(chat_event(9, 8))  # the first after a restart goes out at once
    assert released.ids() == [1, 3, 9]


async def test_a_channel_nobody_listens_to_is_forgotten() -> None:
    released = Released()
    order = ChatOrder(released.append)
    order.push(chat_event(1, None))
    order.push(chat_event(3, 2))

    order.forget(CHAT)
    assert released.ids() == [1, 3]
    order.push(chat_event(9, 8))
    assert released.ids() == [1, 3, 9]
    await asyncio.sleep(HOLD * 2)  # no timer left behind to fire
    assert released.ids() == [1, 3, 9]
