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
from ticketing.realtime.hub import Delivery, Listener, Message

SESSION_RECHECK_SECONDS = 30.0
SESSION_ENDED = "The session has ended. Log in again."
logger = logging.getLogger(__name__)


async def _deliveries(
    listener: Listener, context: Context, principal: Principal
) -> AsyncIterator[Delivery]:
    session_id = principal.session_id
    session_channel = channels.session(session_id)
    sessions = context.services.auth.sessions
    # Spread out, so that subscriptions opened together do not re-check together.
    recheck_seconds = SESSION_RECHECK_SECONDS * random.uniform(0.8, 1.2)  # noqa: S311
    checked_at = time.monotonic()
    async for delivery in listener:
        if isinstance(delivery, Message) and delivery.channel == session_channel:
            raise Unauthenticated(SESSION_ENDED)
        if isinstance(delivery, Message) and time.monotonic() - checked_at > recheck_seconds:
            try:
                # One check for every subscription of the session that this
                # event reaches (any check made since it arrived will do).
                user_id = await context.services.reads.get(
                    ("session", session_id),
                    delivery.received_at,
                    partial(sessions.user_of, session_id),
                )
            except RedisError:
                # Only a safety net for a lost announcement: with Redis away no
                # log-out can happen either. Keep the stream; check again later.
                logger.warning("Session re-check skipped: Redis does not answer", exc_info=True)
            else:
                if user_id != principal.user.id:
                    raise Unauthenticated(SESSION_ENDED)
            checked_at = time.monotonic()
        yield delivery


@asynccontextmanager
async def listening(
    context: Context, principal: Principal, *names: str
) -> AsyncIterator[AsyncIterator[Delivery]]:
    """Listen from now on; iterate when ready (chat replays history in between)."""
    watched = [*names, channels.session(principal.session_id)]
    async with context.services.broker.listen(watched) as listener:
        # Listening to the session's channel now; a log-out announced before
        # that is caught here instead.
        if await context.services.auth.sessions.user_of(principal.session_id) != principal.user.id:
            raise Unauthenticated(SESSION_ENDED)
        yield _deliveries(listener, context, principal)
