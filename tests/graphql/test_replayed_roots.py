"""Replayed messages: one root per message id, whichever read returned it, so one execution."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

import pytest

from ticketing.graphql.messages import subscriptions


def _row(message_id: int) -> Any:
    """A stored message as `messages_after` returns it (with its author)."""
    author = SimpleNamespace(id=3, display_name="Ann")
    return cast(
        Any,
        SimpleNamespace(
            id=message_id,
            ticket_id=7,
            body=f"message {message_id}",
            created_at=datetime(2026, 11, 23, tzinfo=UTC),
            author_id=3,
            author=author,
        ),
    )


@pytest.fixture(autouse=True)
def no_roots_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(subscriptions, "_replayed", {})


def test_reads_from_two_resume_points_hand_out_the_same_roots() -> None:
    after_10 = [subscriptions._replayed_root(_row(n)) for n in (11, 12, 13)]
    after_11 = [subscriptions._replayed_root(_row(n)) for n in (12, 13, 14)]

    assert after_11[:2] == after_10[1:]
    assert all(a is b for a, b in zip(after_11[:2], after_10[1:], strict=True))
    assert [root.id for root in after_11] == ["12", "13", "14"]
    assert after_11[2].body == "message 14"


def test_the_roots_kept_are_bounded_oldest_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(subscriptions, "REPLAYED_KEPT", 2)
    first = subscriptions._replayed_root(_row(1))
    subscriptions._replayed_root(_row(2))
    subscriptions._replayed_root(_row(3))

    assert list(subscriptions._replayed) == [2, 3]
    assert subscriptions._replayed_root(_row(1)) is not first
