"""What every subscription shares: listen to the broker for as long as the session lives.

A subscription listens on its channels and on its session's channel. Logging
out (or a revoked session) is announced there and ends the subscription on
every instance at once. In case that announcement was lost (Redis was down),
the session is also checked again when an event arrives and the last check is
older than about SESSION_RECHECK_SECONDS.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from redis.exceptions import RedisError

from ticketing.auth.service import Principal
from ticketing.errors import Unauthenticated
from ticketing.graphql.context import Context
from ticketing.realtime import channels
from ticketing.realtime.hub import Delivery, DirectSink, Listener, Message

SESSION_RECHECK_SECONDS = 30.0
SESSION_ENDED = "The session has ended. Log in again."
logger = logging.getLogger(__name__)


class LiveStream:
    """A subscription's deliveries, for as long as its session lives.

    A class rather than an async generator: one per subscription, held for
    hours, and its state (when the session was last checked) is shared with a
    direct sink, which may send only while `session_checked_lately`.
    """

    __slots__ = (
        "_checked_at",
        "_context",
        "_listener",
        "_principal",
        "_recheck_seconds",
        "_session_channel",
    )

    def __init__(self, listener: Listener, context: Context, principal: Principal) -> None:
        self._listener = listener
        self._context = context
        self._principal = principal
        self._session_channel = channels.session(principal.session_id)
        # Spread out, so that subscriptions opened together do not re-check together.
        self._recheck_seconds = SESSION_RECHECK_SECONDS * random.uniform(0.8, 1.2)  # noqa: S311
        self._checked_at = time.monotonic()

    def send_directly(self, sink: DirectSink | None) -> None:
        """Let `sink` take messages while this stream waits (None: stop)."""
        self._listener.sink = sink

    def session_checked_lately(self) -> bool:
        return time.monotonic() - self._checked_at <= self._recheck_seconds

    def __aiter__(self) -> LiveStream:
        return self

    async def __anext__(self) -> Delivery:
        delivery = await self._listener.next()
        if isinstance(delivery, Message):
            if delivery.channel == self._session_channel:
                raise Unauthenticated(SESSION_ENDED)
            if not self.session_checked_lately():
                await self._recheck(delivery)
        return delivery

    async def _recheck(self, delivery: Message) -> None:
        session_id = self._principal.session_id
        sessions = self._context.services.auth.sessions
        try:
            # One check for every subscription of the session that this
            # event reaches (any check made since it arrived will do).
            user_id = await self._context.services.reads.get(
                ("session", session_id),
                delivery.received_at,
                partial(sessions.user_of, session_id),
            )
        except RedisError:
            # Only a safety net for a lost announcement: with Redis away no
            # log-out can happen either. Keep the stream; check again later.
            logger.warning("Session re-check skipped: Redis does not answer", exc_info=True)
        else:
            if user_id != self._principal.user.id:
                raise Unauthenticated(SESSION_ENDED)
        self._checked_at = time.monotonic()


@asynccontextmanager
async def listening(
    context: Context, principal: Principal, *names: str
) -> AsyncIterator[LiveStream]:
    """Listen from now on; iterate when ready (chat replays history in between)."""
    watched = [*names, channels.session(principal.session_id)]
    async with context.services.broker.listen(watched) as listener:
        # Listening to the session's channel now; a log-out announced before
        # that is caught here instead.
        if await context.services.auth.sessions.user_of(principal.session_id) != principal.user.id:
            raise Unauthenticated(SESSION_ENDED)
        yield LiveStream(listener, context, principal)
