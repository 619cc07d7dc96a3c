"""A client process holding many subscriptions, speaking graphql-transport-ws by hand.

With the `websockets` library a connection costs a socket, one reader task and
a few small objects, so one process holds thousands. No JSON is parsed on the
hot path: the phase, sequence number and send time are read from the frame
with one regular expression (see protocol.py), so the client's own cost per
delivery stays small next to the server's.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from array import array
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from lib.protocol import MARK, WARMUP
from lib.wsclient import open_acknowledged, subscribe_frame

OPERATION_ID = "1"  # one operation per socket; the same id everywhere (see reference_ws_broadcast)


@dataclass(frozen=True)
class ConnectSpec:
    url: str
    init_payload: dict[str, Any]
    subscribe_payload: dict[str, Any]
    count: int
    concurrency: int  # handshakes in flight at once, so the server's backlog never overflows
    phases: dict[str, int]  # phase tag -> how many messages it sends


class Subscriber:
    __slots__ = ("closed", "index", "warm", "ws")

    def __init__(self, index: int, ws: ClientConnection) -> None:
        self.index = index
        self.ws = ws
        self.warm = False
        self.closed = False


class PhaseRecord:
    """Who received which sequence number how often, and every delivery's latency."""

    def __init__(self, subscribers: int, size: int) -> None:
        self.size = size
        self.counts = bytearray(subscribers * size)  # saturates at 255
        self.latencies = array("d")  # seconds, one per delivery (duplicates too)
        self.unique = 0
        self.deliveries = 0
        self.first = float("inf")
        self.last = 0.0

    def record(self, subscriber: int, seq: int, sent: float, now: float) -> None:
        if seq >= self.size:
            return
        cell = subscriber * self.size + seq
        count = self.counts[cell]
        if count == 0:
            self.unique += 1
        if count < 255:
            self.counts[cell] = count + 1
        self.deliveries += 1
        self.latencies.append(now - sent)
        self.first = min(self.first, now)
        self.last = max(self.last, now)

    def lost(self, subscribers: int, skipped: set[int]) -> int:
        """Cells never received, less those of messages the sender failed to send."""
        zeros = self.counts.count(0)
        for seq in skipped:
            if seq < self.size:
                zeros -= sum(1 for s in range(subscribers) if self.counts[s * self.size + seq] == 0)
        return zeros


class Subscribers:
    """The handler of one client process (see workers.py for the command loop)."""

    def __init__(self, index: int) -> None:
        self.index = index
        self._reset()

    def _reset(self) -> None:
        """Fresh state for the next target (the same process serves them all)."""
        self.subscribers: list[Subscriber] = []
        self.readers: set[asyncio.Task[None]] = set()
        self.records: dict[str, PhaseRecord] = {}
        self.warm = 0
        self.everyone_warm = asyncio.Event()
        self.sample_frame: str | None = None
        self.errors = 0
        self.error_sample: str | None = None
        self.dropped = 0
        self.closing = False

    async def do_connect(self, spec: ConnectSpec) -> dict[str, Any]:
        gate = asyncio.Semaphore(spec.concurrency)
        started = time.monotonic()
        outcomes = await asyncio.gather(
            *(self._open(spec, gate) for _ in range(spec.count)), return_exceptions=True
        )
        failures = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
        count = len(self.subscribers)
        self.records = {tag: PhaseRecord(count, size) for tag, size in spec.phases.items()}
        if self.warm >= count:
            self.everyone_warm.set()
        return {
            "connected": count,
            "failed": len(failures),
            "first_failure": repr(failures[0]) if failures else None,
            "seconds": time.monotonic() - started,
        }

    async def _open(self, spec: ConnectSpec, gate: asyncio.Semaphore) -> None:
        async with gate:
            ws = await open_acknowledged(spec.url, spec.init_payload)
            try:
                payload = spec.subscribe_payload
                await ws.send(subscribe_frame(OPERATION_ID, payload["query"], payload["variables"]))
            except BaseException:
                await ws.close()
                raise
        subscriber = Subscriber(len(self.subscribers), ws)
        self.subscribers.append(subscriber)
        reader = asyncio.create_task(self._read(subscriber))
        self.readers.add(reader)
        reader.add_done_callback(self.readers.discard)

    async def _read(self, subscriber: Subscriber) -> None:
        try:
            async for frame in subscriber.ws:
                now = time.time()
                text = frame if isinstance(frame, str) else frame.decode()
                mark = MARK.search(text)
                if mark is None:
                    await self._other(subscriber, text)
                    continue
                tag = mark.group(1)
                if tag == WARMUP:
                    self._warmed(subscriber, text)
                    continue
                record = self.records.get(tag)
                if record is not None:
                    record.record(subscriber.index, int(mark.group(2)), float(mark.group(3)), now)
        except ConnectionClosed:
            pass
        finally:
            subscriber.closed = True
            if not self.closing:
                self.dropped += 1

    def _warmed(self, subscriber: Subscriber, frame: str) -> None:
        if subscriber.warm:
            return
        subscriber.warm = True
        self.warm += 1
        if self.sample_frame is None:
            self.sample_frame = frame
        if self.warm >= len(self.subscribers):
            self.everyone_warm.set()

    async def _other(self, subscriber: Subscriber, frame: str) -> None:
        message = json.loads(frame)
        kind = message.get("type")
        if kind == "ping":
            await subscriber.ws.send(json.dumps({"type": "pong"}))
        elif kind != "pong":
            self.errors += 1  # an error, a completion, or a next without our mark
            if self.error_sample is None:
                self.error_sample = frame[:2000]

    async def do_warm(self, limit_seconds: float) -> dict[str, Any]:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.everyone_warm.wait(), limit_seconds)
        return {"warm": self.warm, "of": len(self.subscribers), "sample": self.sample_frame}

    async def do_collect(
        self, tag: str, skipped: list[int], quiet_seconds: float, limit_seconds: float
    ) -> dict[str, Any]:
        """Wait until every subscriber has every message of the phase, or nothing
        has arrived for `quiet_seconds`; then count and hand over the latencies."""
        record = self.records[tag]
        count = len(self.subscribers)
        skip = {seq for seq in skipped if seq < record.size}
        expected = (record.size - len(skip)) * count
        started = progress_at = time.monotonic()
        seen = record.unique
        while record.unique < expected:
            await asyncio.sleep(0.05)
            now = time.monotonic()
            if record.unique != seen:
                seen, progress_at = record.unique, now
            elif now - progress_at > quiet_seconds or now - started > limit_seconds:
                break
        return {
            "subscribers": count,
            "expected": expected,
            "deliveries": record.deliveries,
            "unique": record.unique,
            "lost": record.lost(count, skip),
            "dup": record.deliveries - record.unique,
            "first_receipt": record.first if record.deliveries else None,
            "last_receipt": record.last if record.deliveries else None,
            "latencies": record.latencies.tobytes(),
            "dropped_connections": self.dropped,
            "errors": self.errors,
            "error_sample": self.error_sample,
        }

    async def do_close(self) -> dict[str, Any]:
        self.closing = True
        count = len(self.subscribers)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                asyncio.gather(
                    *(subscriber.ws.close() for subscriber in self.subscribers),
                    return_exceptions=True,
                ),
                60,
            )
        for reader in list(self.readers):
            reader.cancel()
        await asyncio.gather(*self.readers, return_exceptions=True)
        self._reset()
        return {"closed": count}

    async def shutdown(self) -> None:
        if self.subscribers:
            await self.do_close()
