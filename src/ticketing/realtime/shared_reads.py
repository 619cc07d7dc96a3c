"""Database reads that many subscribers of one event need: made once, handed to all.

When a chat event is lost, every subscriber of the ticket in this process
notices the same gap at once and needs the same read ("the ticket's messages
after id N"); so do sockets reconnecting together with the same `after`. One
read per key serves them all.

A read may serve a waiter only if it started no earlier than the waiter's
`not_before`: the moment after which whatever the waiter needs was committed
(it started listening, or received the event that showed the gap). A read that
started earlier might miss it. If that read is still running, the waiter waits
for the follow-up read, which starts as soon as it ends and serves every
waiter that came meanwhile (a reconnect storm brings a steady stream of
waiters for the same key, each a little later than the last: without the
follow-up each would make a read of its own). Otherwise a new read starts. A
finished read stays usable for `keep_seconds` for late waiters of the same
moment; a failed one is forgotten at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar, cast

T = TypeVar("T")
KEEP_SECONDS = 5.0


@dataclass(slots=True)
class _Read:
    started: float
    outcome: asyncio.Future[Any]
    # The follow-up's outcome, for waiters too late for this read while it runs.
    follow_up: asyncio.Future[Any] | None = None


class SharedReads:
    def __init__(self, keep_seconds: float = KEEP_SECONDS) -> None:
        self._keep_seconds = keep_seconds
        self._reads: dict[Hashable, _Read] = {}
        self.started = 0  # reads actually made (the rest were shared)

    def __len__(self) -> int:
        return len(self._reads)

    async def get(self, key: Hashable, not_before: float, read: Callable[[], Awaitable[T]]) -> T:
        current = self._reads.get(key)
        if current is not None and current.started < not_before:
            if current.outcome.done():
                current = None
            else:
                return cast("T", await asyncio.shield(self._follow_up(key, current, read)))
        if current is None:
            current = self._start(key, read)
        # Shielded: a waiter that goes away must not cancel the read for the others.
        return cast("T", await asyncio.shield(current.outcome))

    def _start(self, key: Hashable, read: Callable[[], Awaitable[Any]]) -> _Read:
        started = _Read(time.monotonic(), asyncio.ensure_future(read()))
        self.started += 1
        self._reads[key] = started
        started.outcome.add_done_callback(lambda _: self._finished(key, started))
        return started

    def _follow_up(
        self, key: Hashable, running: _Read, read: Callable[[], Awaitable[Any]]
    ) -> asyncio.Future[Any]:
        """The outcome of the read that starts when `running` ends (started then)."""
        if running.follow_up is None:
            follow_up = asyncio.get_running_loop().create_future()
            running.follow_up = follow_up

            def start(_: object) -> None:
                following = self._start(key, read)
                following.outcome.add_done_callback(partial(_copy_outcome, follow_up))

            running.outcome.add_done_callback(start)
        return running.follow_up

    def _finished(self, key: Hashable, read: _Read) -> None:
        failed = read.outcome.cancelled() or read.outcome.exception() is not None
        if failed:
            self._forget(key, read)
        else:
            asyncio.get_running_loop().call_later(self._keep_seconds, self._forget, key, read)

    def _forget(self, key: Hashable, read: _Read) -> None:
        if self._reads.get(key) is read:
            del self._reads[key]


def _copy_outcome(target: asyncio.Future[Any], source: asyncio.Future[Any]) -> None:
    if target.done():
        return
    if source.cancelled():
        target.cancel()
    elif (error := source.exception()) is not None:
        target.set_exception(error)
    else:
        target.set_result(source.result())
