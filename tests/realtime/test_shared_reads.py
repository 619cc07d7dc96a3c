"""SharedReads: one read per key for the waiters it may serve, never for one it may not."""

from __future__ import annotations

import asyncio
import time

import pytest

from ticketing.realtime.shared_reads import SharedReads


class Store:
    """A read that counts its calls and waits until released."""

    def __init__(self) -> None:
        self.calls = 0
        self.release = asyncio.Event()
        self.fail_with: Exception | None = None

    async def read(self) -> list[int]:
        self.calls += 1
        await self.release.wait()
        if self.fail_with is not None:
            raise self.fail_with
        return [self.calls]


async def test_waiters_at_once_share_one_read() -> None:
    reads, store = SharedReads(), Store()
    moment = time.monotonic()
    waiters = [asyncio.create_task(reads.get("k", moment, store.read)) for _ in range(50)]
    await asyncio.sleep(0)
    store.release.set()

    results = await asyncio.gather(*waiters)

    assert store.calls == 1
    assert all(result is results[0] for result in results)
    assert reads.started == 1


async def test_a_read_started_before_a_waiters_moment_does_not_serve_it() -> None:
    reads, store = SharedReads(), Store()
    store.release.set()
    first = await reads.get("k", time.monotonic(), store.read)

    # a waiter whose data may have been committed after that read started
    later = await reads.get("k", time.monotonic(), store.read)

    assert (first, later) == ([1], [2])
    assert store.calls == 2


async def test_a_finished_read_serves_late_waiters_of_its_moment_then_is_forgotten() -> None:
    reads, store = SharedReads(keep_seconds=0.05), Store()
    store.release.set()
    moment = time.monotonic()
    first = await reads.get("k", moment, store.read)

    again = await reads.get("k", moment, store.read)
    assert again is first
    assert store.calls == 1

    await asyncio.sleep(0.1)
    assert len(reads) == 0
    assert await reads.get("k", moment, store.read) == [2]


async def test_keys_are_read_apart() -> None:
    reads, store = SharedReads(), Store()
    store.release.set()
    moment = time.monotonic()

    assert await reads.get(("t", 1), moment, store.read) == [1]
    assert await reads.get(("t", 2), moment, store.read) == [2]


async def test_a_failed_read_fails_its_waiters_and_is_forgotten_at_once() -> None:
    reads, store = SharedReads(), Store()
    store.fail_with = ConnectionError("database gone")
    moment = time.monotonic()
    waiters = [asyncio.create_task(reads.get("k", moment, store.read)) for _ in range(3)]
    await asyncio.sleep(0)
    store.release.set()

    outcomes = await asyncio.gather(*waiters, return_exceptions=True)

    assert all(isinstance(outcome, ConnectionError) for outcome in outcomes)
    assert len(reads) == 0
    store.fail_with = None
    assert await reads.get("k", moment, store.read) == [2]


async def test_a_waiter_that_goes_away_does_not_cancel_the_read_for_the_others() -> None:
    reads, store = SharedReads(), Store()
    moment = time.monotonic()
    leaving = asyncio.create_task(reads.get("k", moment, store.read))
    staying = asyncio.create_task(reads.get("k", moment, store.read))
    await asyncio.sleep(0)

    leaving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await leaving
    store.release.set()

    assert await staying == [1]
    assert store.calls == 1


class SteppedStore:
    """A read per call, each waiting for its own release; records when each started."""

    def __init__(self) -> None:
        self.started: list[float] = []
        self.releases: list[asyncio.Event] = []
        self.fail_with: Exception | None = None

    async def read(self) -> list[int]:
        self.started.append(time.monotonic())
        number = len(self.started)
        release = asyncio.Event()
        self.releases.append(release)
        await release.wait()
        if self.fail_with is not None:
            raise self.fail_with
        return [number]


async def test_waiters_too_late_for_a_running_read_share_the_read_that_follows_it() -> None:
    reads, store = SharedReads(), SteppedStore()
    first = asyncio.create_task(reads.get("k", time.monotonic(), store.read))
    await asyncio.sleep(0)
    # later waiters, one after another while the first read runs (a reconnect storm)
    late = []
    for _ in range(5):
        await asyncio.sleep(0.002)
        late.append(asyncio.create_task(reads.get("k", time.monotonic(), store.read)))
    await asyncio.sleep(0)
    assert len(store.started) == 1  # none of them started a read of its own
    after_the_last_waiter = time.monotonic()

    store.releases[0].set()
    assert await first == [1]
    await asyncio.sleep(0)
    assert len(store.started) == 2  # the follow-up started once the first ended...
    assert store.started[1] >= after_the_last_waiter  # ...after every late waiter's moment
    store.releases[1].set()

    assert await asyncio.gather(*late) == [[2]] * 5
    assert reads.started == 2


async def test_a_failed_follow_up_fails_its_waiters() -> None:
    reads, store = SharedReads(), SteppedStore()
    first = asyncio.create_task(reads.get("k", time.monotonic(), store.read))
    await asyncio.sleep(0.002)
    late = asyncio.create_task(reads.get("k", time.monotonic(), store.read))
    await asyncio.sleep(0)

    store.releases[0].set()
    assert await first == [1]
    await asyncio.sleep(0)
    store.fail_with = ConnectionError("database gone")
    store.releases[1].set()

    with pytest.raises(ConnectionError):
        await late
    assert len(reads) == 0
