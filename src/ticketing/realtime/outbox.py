"""Events are published only after the change they describe has committed."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from ticketing.realtime.broker import Broker

logger = logging.getLogger(__name__)


@dataclass
class Outbox:
    """What one change will publish, collected while its transaction is open."""

    _pending: list[tuple[str, str]] = field(default_factory=list)

    def add(self, channels: Iterable[str], data: str) -> None:
        self._pending.extend((channel, data) for channel in channels)

    async def publish(self, broker: Broker) -> None:
        pending, self._pending = self._pending, []
        if not pending:
            return
        try:
            await broker.publish_all(pending)
        except Exception:
            # The change is committed and stays so; live subscribers miss these
            # events, and chat clients get them back from the database on resume.
            logger.warning(
                "Could not publish the events on %s",
                ", ".join(sorted({channel for channel, _ in pending})),
                exc_info=True,
            )


@dataclass(frozen=True, slots=True)
class Change:
    connection: BaseDBAsyncClient
    outbox: Outbox


@asynccontextmanager
async def change(broker: Broker) -> AsyncIterator[Change]:
    """A transaction whose events go out once it has committed (and never if it fails)."""
    outbox = Outbox()
    async with in_transaction() as connection:
        yield Change(connection=connection, outbox=outbox)
    await outbox.publish(broker)
