"""At most WS_MAX_CONNECTIONS_PER_USER sockets per signed-in user.

A socket is counted from the moment its token is accepted (connection_init)
until it ends; anonymous sockets are not counted (they cannot subscribe to
anything). The count spans every instance when Redis is configured
(realtime/connections.py), and this process alone otherwise.
"""

from __future__ import annotations

import logging

from redis.exceptions import RedisError

from ticketing.graphql.context import Context
from ticketing.realtime.connections import (
    ConnectionCounter,
    MemoryConnectionCounter,
    RedisConnectionCounter,
    Slot,
)
from ticketing.services import Services

logger = logging.getLogger(__name__)


class ConnectionCap:
    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._counter: ConnectionCounter | None = None
        # The slot of each admitted socket, by the identity of its context (the
        # context lives as long as the socket, so the key is not reused meanwhile).
        self._slots: dict[int, Slot] = {}

    def _counter_for(self, services: Services) -> ConnectionCounter:
        if self._counter is None:  # the services exist once the app has started
            self._counter = (
                MemoryConnectionCounter()
                if services.redis is None
                else RedisConnectionCounter(services.redis, services.settings.redis_prefix)
            )
        return self._counter

    async def admit(self, context: Context, user_id: int) -> bool:
        """Take a slot for this socket; False when the user has no slot left."""
        if id(context) in self._slots:
            # One connection_init per socket: both protocols close the socket on
            # a second one before it gets here. Admitting it would let another
            # token use this socket's slot, so refuse rather than trust that.
            return False
        slot = await self._counter_for(context.services).claim(user_id, self._limit)
        if slot is None:
            return False
        self._slots[id(context)] = slot
        return True

    async def leave(self, context: Context) -> None:
        """Give back the socket's slot, if it took one."""
        slot = self._slots.pop(id(context), None)
        if slot is None:
            return
        try:
            await self._counter_for(context.services).release(slot)
        except RedisError:
            logger.warning("Could not give back a WebSocket slot; it lapses", exc_info=True)
