"""Inbox and Flag: the cut-down asyncio.Queue and asyncio.Event every socket holds."""

from __future__ import annotations

import asyncio
import contextlib
import sys

import pytest

from ticketing.light_async import Flag, Inbox


async def _settle() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


async def test_an_inbox_hands_items_over_in_order_and_wakes_its_waiting_consumer() -> None:
    inbox: Inbox[str] = Inbox()
    inbox.put_nowait("first")
    assert await inbox.get() == "first"

    waiting = asyncio.create_task(inbox.get())
    await _settle()
    assert inbox.idle
    assert inbox.empty()
    inbox.put_nowait("second")
    inbox.put_nowait("third")

    assert await waiting == "second"
    assert not inbox.idle
    assert (inbox.qsize(), await inbox.get()) == (1, "third")


async def test_a_cleared_inbox_is_empty_and_a_cancelled_get_leaves_it_usable() -> None:
    inbox: Inbox[int] = Inbox()
    inbox.put_nowait(1)
    inbox.clear()
    assert inbox.empty()

    waiting = asyncio.create_task(inbox.get())
    await _settle()
    waiting.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await waiting
    assert not inbox.idle
    inbox.put_nowait(2)
    assert await inbox.get() == 2


async def test_an_inbox_refuses_a_second_waiting_consumer() -> None:
    inbox: Inbox[int] = Inbox()
    first = asyncio.create_task(inbox.get())
    await _settle()

    with pytest.raises(RuntimeError):
        await inbox.get()
    inbox.put_nowait(1)
    assert await first == 1


async def test_a_flag_wakes_every_waiter_when_set_and_passes_them_while_set() -> None:
    flag = Flag()
    waiters = [asyncio.create_task(flag.wait()) for _ in range(3)]
    await _settle()
    assert not any(waiter.done() for waiter in waiters)

    flag.set()
    assert await asyncio.gather(*waiters) == [True] * 3
    assert flag.is_set()
    assert await flag.wait()

    flag.clear()
    late = asyncio.create_task(flag.wait())
    await _settle()
    assert not late.done()
    flag.set()
    assert await late


async def test_a_cancelled_flag_waiter_is_forgotten() -> None:
    flag = Flag()
    waiter = asyncio.create_task(flag.wait())
    await _settle()
    waiter.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await waiter

    flag.set()  # nothing left to wake, nothing raised
    assert flag.is_set()


def test_they_are_smaller_than_what_they_replace() -> None:
    def footprint(obj: object) -> int:
        return sys.getsizeof(obj) + sum(
            sys.getsizeof(getattr(obj, name)) for name in getattr(obj, "__dict__", {})
        )

    assert footprint(Inbox()) * 5 < footprint(asyncio.Queue())
    assert footprint(Flag()) * 5 < footprint(asyncio.Event())
