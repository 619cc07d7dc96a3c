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
from functools import partial
from types import TracebackType

from redis.exceptions import RedisError

from ticketing.auth.service import SESSION_ENDED, Principal
from ticketing.errors import Unauthenticated
from ticketing.graphql.context import Context
from ticketing.realtime import channels
from ticketing.realtime.hub import Delivery, DirectSink, Listener, Message

SESSION_RECHECK_SECONDS = 30.0
logger = logging.getLogger(__name__)


class LiveStream:
    """A subscription's deliveries, for as long as its session lives.

    `async with listening(...) as live`: listening from entry to exit; iterate
    when ready (chat replays history in between). A class rather than
    generator-based context managers and an async generator: one per
    subscription, held for hours (each generator frame costs memory), and its
    state (when the session was last checked) is shared with a direct sink,
    which may send only while `session_checked_lately`.
    """

    __slots__ = (
        "_checked_at",
        "_context",
        "_listener",
        "_listening",
        "_principal",
        "_recheck_seconds",
        "_session_channel",
    )

    def __init__(self, context: Context, principal: Principal, names: tuple[str, ...]) -> None:
        self._context = context
        self._principal = principal
        self._session_channel = channels.session(principal.session_id)
        self._listening = context.services.broker.listen([*names, self._session_channel])
        self._listener: Listener | None = None
        # Spread out, so that subscriptions opened together do not re-check together.
        self._recheck_seconds = SESSION_RECHECK_SECONDS * random.uniform(0.8, 1.2)  # noqa: S311
        self._checked_at = time.monotonic()

    async def __aenter__(self) -> LiveStream:
        self._listener = await self._listening.__aenter__()
        try:
            # Listening to the session's channel now; a log-out announced
            # before that is caught here instead.
            sessions = self._context.services.auth.sessions
            if await sessions.user_of(self._principal.session_id) != self._principal.user.id:
                raise Unauthenticated(SESSION_ENDED)
        except BaseException as error:
            await self._listening.__aexit__(type(error), error, error.__traceback__)
            raise
        self._checked_at = time.monotonic()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._listening.__aexit__(kind, error, traceback)

    def send_directly(self, sink: DirectSink | None) -> None:
        """Let `sink` take messages while this stream waits (None: stop)."""
        if self._listener is not None:
            self._listener.sink = sink

    def session_checked_lately(self) -> bool:
        return time.monotonic() - self._checked_at <= self._recheck_seconds

    def __aiter__(self) -> LiveStream:
        return self

    async def __anext__(self) -> Delivery:
        if self._listener is None:
            raise RuntimeError("iterated outside `async with`")
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


def listening(context: Context, principal: Principal, *names: str) -> LiveStream:
    """Listen to `names` and the session's channel from `async with` on."""
    return LiveStream(context, principal, names)
