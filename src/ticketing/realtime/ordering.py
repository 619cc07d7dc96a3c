"""A ticket's chat events, put back in commit order before they fan out.

Each chat event names the message before it (`previous_id`). The ticket's row
lock makes a ticket's messages commit in id order, but each is published after
its commit by the process that served the request, so two sent close together
can reach Redis, and so every process, the other way round. Every subscriber
would take the first to arrive for a gap and read the database, all at once.
Here an event whose predecessor has not come yet is held until it comes, for
HOLD_SECONDS at most; after that the held events go out as they are, and the
subscribers read what is missing, as they would have anyway. Nothing is
dropped: this only spares the subscribers work.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ticketing.realtime import channels, events
from ticketing.realtime.hub import Message

HOLD_SECONDS = 0.2


class ChatOrder:
    """Releases each ticket's chat events in order; any other message at once."""

    def __init__(self, release: Callable[[Message], None]) -> None:
        self._release = release
        self._last: dict[str, int] = {}  # per channel: the newest id released
        self._held: dict[str, dict[int | None, Message]] = {}  # by the id they follow
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self.held = 0
        self.released_late = 0

    def push(self, message: Message) -> None:
        channel = message.channel
        if not channels.is_ticket_messages(channel):
            self._release(message)
            return
        try:
            event = events.message_event(message)
        except (ValueError, KeyError, TypeError):
            self._release(message)  # not ours to judge: its subscribers will report it
            return
        last = self._last.get(channel)
        if last is not None and event.message.id > last and event.previous_id != last:
            self._hold(message, event.previous_id)
            return
        self._release(message)
        if last is None or event.message.id > last:
            self._last[channel] = event.message.id
            self._release_followers(channel)

    def forget(self, channel: str) -> None:
        """Nobody here listens to `channel` any more (what is held goes out first)."""
        self._flush(channel)
        self._last.pop(channel, None)

    def restart(self) -> None:
        """After events may have been lost upstream: release all, expect nothing."""
        for channel in list(self._held):
            self._flush(channel)
        self._last.clear()

    def _hold(self, message: Message, previous_id: int | None) -> None:
        channel = message.channel
        self._held.setdefault(channel, {})[previous_id] = message
        self.held += 1
        if channel not in self._timers:
            loop = asyncio.get_running_loop()
            self._timers[channel] = loop.call_later(HOLD_SECONDS, self._wait_over, channel)

    def _wait_over(self, channel: str) -> None:
        self.released_late += len(self._held.get(channel, ()))
        self._flush(channel)

    def _release_followers(self, channel: str) -> None:
        held = self._held.get(channel)
        while held:
            follower = held.pop(self._last[channel], None)
            if follower is None:
                return
            self._release(follower)
            self._last[channel] = events.message_event(follower).message.id
        self._done_holding(channel)

    def _flush(self, channel: str) -> None:
        """Release what is held, oldest first (all newer than the last)."""
        held = self._held.get(channel, {})
        for message in sorted(held.values(), key=lambda m: events.message_event(m).message.id):
            self._release(message)
            self._last[channel] = events.message_event(message).message.id
        self._done_holding(channel)

    def _done_holding(self, channel: str) -> None:
        self._held.pop(channel, None)
        timer = self._timers.pop(channel, None)
        if timer is not None:
            timer.cancel()
