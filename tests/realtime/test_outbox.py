"""A change's events go out together once it has committed; a failed publish loses no data."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import cast

import pytest

from ticketing.realtime.broker import Broker
from ticketing.realtime.outbox import Outbox


class RecordingBroker:
    def __init__(self, *, fail: bool = False) -> None:
        self.batches: list[list[tuple[str, str]]] = []
        self._fail = fail

    async def publish_all(self, messages: Sequence[tuple[str, str]]) -> None:
        self.batches.append(list(messages))
        if self._fail:
            raise ConnectionError("Redis is down")


async def test_a_change_publishes_its_events_in_one_batch_in_order() -> None:
    outbox, broker = Outbox(), RecordingBroker()
    outbox.add(["ticket.1.messages"], "message")
    outbox.add(["logs", "admins"], "entry")

    await outbox.publish(cast(Broker, broker))
    await outbox.publish(cast(Broker, broker))  # nothing left to send

    assert broker.batches == [
        [("ticket.1.messages", "message"), ("logs", "entry"), ("admins", "entry")]
    ]


async def test_a_failed_publish_is_logged_without_the_data_and_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    outbox, broker = Outbox(), RecordingBroker(fail=True)
    outbox.add(["ticket.1.messages"], "a secret message body")

    with caplog.at_level(logging.WARNING, logger="ticketing.realtime.outbox"):
        await outbox.publish(cast(Broker, broker))
    await outbox.publish(cast(Broker, broker))

    assert len(broker.batches) == 1  # not retried: the change stays committed either way
    assert "ticket.1.messages" in caplog.text
    assert "a secret message body" not in caplog.text
