"""Spread fan-out: client processes holding one subscription per (ticket, watcher),
and a sender that writes each message to the ticket the plan names.

Each ticket has two watchers: its owner (role 0, the owner's own token) and an
admin (role 1), each on a socket of their own, as their browsers would be. The
parent draws a plan per phase, the ticket of every sequence number, and hands
the same plan to the sender and to every client process; a client then knows
exactly which of its subscribers must receive each message, so a delivery to
the wrong ticket (`misdelivered`), a missing one (`lost`) and a repeated one
(`dup`) are each counted. Bodies are protocol.py's: phase, sequence number and
the sender's time.time() just before sendMessage; during warm-up the sequence
number is the ticket's index.
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

from lib.api import MESSAGE_ADDED, SEND_MESSAGE
from lib.protocol import MARK, WARMUP, body
from lib.sender import Outcome, Sender
from lib.subscribers import OPERATION_ID
from lib.wsclient import open_acknowledged, subscribe_frame

OWNER, ADMIN = 0, 1
ROLES = (OWNER, ADMIN)
ROLE_NAMES = {OWNER: "owner", ADMIN: "admin"}
CONNECT_ATTEMPTS = 3


@dataclass(frozen=True)
class Watch:
    """One subscription: which ticket (its index in the run and its id), whose, with what."""

    ticket: int
    ticket_id: str
    role: int
    token: str


@dataclass(frozen=True)
class SpreadSpec:
    url: str
    watches: list[Watch]
    concurrency: int  # handshakes in flight at once
    plans: dict[str, list[int]]  # phase tag -> the ticket index of each sequence number


class Watcher:
    __slots__ = ("closed", "index", "role", "ticket", "warm", "ws")

    def __init__(self, index: int, watch: Watch, ws: ClientConnection) -> None:
        self.index = index
        self.ticket = watch.ticket
        self.role = watch.role
        self.ws = ws
        self.warm = False
        self.closed = False


class SpreadRecord:
    """Per (sequence number, role) how often it arrived, and every delivery's latency.

    A (ticket, role) pair is one subscription in the whole run, so a message
    (one ticket) has exactly one cell per role; a process expects the cells of
    the subscriptions it holds.
    """

    def __init__(self, plan: list[int], held: dict[int, list[int]]) -> None:
        self.plan = plan
        self.size = len(plan)
        self.counts = bytearray(self.size * len(ROLES))  # saturates at 255
        self.expected_cells = [
            seq * len(ROLES) + role
            for seq, ticket in enumerate(plan)
            for role in held.get(ticket, ())
        ]
        self.latencies = {role: array("d") for role in ROLES}
        self.seqs = {role: array("l") for role in ROLES}  # the message of each latency
        self.unique = 0
        self.deliveries = 0
        self.misdelivered = 0
        self.first = float("inf")
        self.last = 0.0

    def record(self, watcher: Watcher, seq: int, sent: float, now: float) -> None:
        if seq >= self.size or self.plan[seq] != watcher.ticket:
            self.misdelivered += 1  # a message of another ticket: counted, not a delivery
            return
        cell = seq * len(ROLES) + watcher.role
        count = self.counts[cell]
        if count == 0:
            self.unique += 1
        if count < 255:
            self.counts[cell] = count + 1
        self.deliveries += 1
        self.latencies[watcher.role].append(now - sent)
        self.seqs[watcher.role].append(seq)
        self.first = min(self.first, now)
        self.last = max(self.last, now)

    def expected(self, skipped: set[int]) -> int:
        return sum(1 for cell in self.expected_cells if cell // len(ROLES) not in skipped)

    def lost(self, skipped: set[int]) -> int:
        return sum(
            1
            for cell in self.expected_cells
            if self.counts[cell] == 0 and cell // len(ROLES) not in skipped
        )


class SpreadSubscribers:
    """The handler of one client process (see workers.py for the command loop)."""

    def __init__(self, index: int) -> None:
        self.index = index
        self._reset()

    def _reset(self) -> None:
        self.watchers: list[Watcher] = []
        self.readers: set[asyncio.Task[None]] = set()
        self.records: dict[str, SpreadRecord] = {}
        self.warm = 0
        self.sample_frame: str | None = None
        self.errors = 0
        self.error_sample: str | None = None
        self.dropped = 0
        self.closing = False
        self.connect_retries = 0
        self.connect_error: str | None = None

    async def do_connect(self, spec: SpreadSpec) -> dict[str, Any]:
        gate = asyncio.Semaphore(spec.concurrency)
        started = time.monotonic()
        outcomes = await asyncio.gather(
            *(self._open(spec.url, watch, gate) for watch in spec.watches),
            return_exceptions=True,
        )
        failures = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
        held: dict[int, list[int]] = {}
        for watcher in self.watchers:
            held.setdefault(watcher.ticket, []).append(watcher.role)
        self.records = {tag: SpreadRecord(plan, held) for tag, plan in spec.plans.items()}
        return {
            "connected": len(self.watchers),
            "failed": len(failures),
            "first_failure": repr(failures[0]) if failures else None,
            "retries": self.connect_retries,
            "first_retried_error": self.connect_error,
            "seconds": time.monotonic() - started,
        }

    async def _open(self, url: str, watch: Watch, gate: asyncio.Semaphore) -> None:
        """Open, authenticate and subscribe; a failed attempt is retried (as a
        browser would), counted and its first error kept."""
        for attempt in range(CONNECT_ATTEMPTS):
            try:
                ws = await self._handshake(url, watch, gate)
                break
            except (OSError, TimeoutError, ConnectionClosed) as error:
                self.connect_retries += 1
                self.connect_error = self.connect_error or repr(error)
                if attempt + 1 == CONNECT_ATTEMPTS:
                    raise
        watcher = Watcher(len(self.watchers), watch, ws)
        self.watchers.append(watcher)
        reader = asyncio.create_task(self._read(watcher))
        self.readers.add(reader)
        reader.add_done_callback(self.readers.discard)

    async def _handshake(self, url: str, watch: Watch, gate: asyncio.Semaphore) -> ClientConnection:
        async with gate:
            try:
                ws = await open_acknowledged(url, {"authorization": f"Bearer {watch.token}"})
            except TimeoutError as error:
                raise TimeoutError("no connection_ack in time") from error
            try:
                variables = {"ticketId": watch.ticket_id}
                await ws.send(subscribe_frame(OPERATION_ID, MESSAGE_ADDED, variables))
            except BaseException:
                await ws.close()
                raise
        return ws

    async def _read(self, watcher: Watcher) -> None:
        try:
            async for frame in watcher.ws:
                now = time.time()
                text = frame if isinstance(frame, str) else frame.decode()
                mark = MARK.search(text)
                if mark is None:
                    await self._other(watcher, text)
                    continue
                tag, seq = mark.group(1), int(mark.group(2))
                if tag == WARMUP:
                    self._warmed(watcher, seq, text)
                    continue
                record = self.records.get(tag)
                if record is not None:
                    record.record(watcher, seq, float(mark.group(3)), now)
        except ConnectionClosed:
            pass
        finally:
            watcher.closed = True
            if not self.closing:
                self.dropped += 1

    def _warmed(self, watcher: Watcher, ticket: int, frame: str) -> None:
        if ticket != watcher.ticket:
            self.errors += 1  # a warm-up message of another ticket
            self.error_sample = self.error_sample or f"warm-up misdelivered: {frame[:500]}"
            return
        if not watcher.warm:
            watcher.warm = True
            self.warm += 1
            self.sample_frame = self.sample_frame or frame

    async def _other(self, watcher: Watcher, frame: str) -> None:
        message = json.loads(frame)
        kind = message.get("type")
        if kind == "ping":
            await watcher.ws.send(json.dumps({"type": "pong"}))
        elif kind != "pong":
            self.errors += 1  # an error, a completion, or a next without our mark
            if self.error_sample is None:
                self.error_sample = frame[:2000]

    async def do_cold(self) -> dict[str, Any]:
        """The tickets with a subscriber here that has had no warm-up message yet."""
        cold = sorted({w.ticket for w in self.watchers if not w.warm})
        return {
            "warm": self.warm,
            "of": len(self.watchers),
            "cold_tickets": cold,
            "sample": self.sample_frame,
            "errors": self.errors,
            "error_sample": self.error_sample,
            "dropped_connections": self.dropped,
        }

    async def do_collect(
        self, tag: str, skipped: list[int], quiet_seconds: float, limit_seconds: float
    ) -> dict[str, Any]:
        """Wait until every expected delivery of the phase is in, or nothing has
        arrived for `quiet_seconds`; then count and hand over the latencies."""
        record = self.records[tag]
        skip = set(skipped)
        expected = record.expected(skip)
        started = progress_at = time.monotonic()
        seen = record.unique
        while record.unique < expected:
            await asyncio.sleep(0.05)
            now = time.monotonic()
            if record.unique != seen:
                seen, progress_at = record.unique, now
            elif now - progress_at > quiet_seconds or now - started > limit_seconds:
                break
        everything, seqs = array("d"), array("l")
        for role in ROLES:
            everything.extend(record.latencies[role])
            seqs.extend(record.seqs[role])
        return {
            "subscribers": len(self.watchers),
            "expected": expected,
            "deliveries": record.deliveries,
            "unique": record.unique,
            "lost": record.lost(skip),
            "dup": record.deliveries - record.unique,
            "misdelivered": record.misdelivered,
            "first_receipt": record.first if record.deliveries else None,
            "last_receipt": record.last if record.deliveries else None,
            "latencies": everything.tobytes(),
            "seqs": seqs.tobytes(),
            "latencies_by_role": {
                ROLE_NAMES[role]: record.latencies[role].tobytes() for role in ROLES
            },
            "dropped_connections": self.dropped,
            "errors": self.errors,
            "error_sample": self.error_sample,
        }

    async def do_close(self) -> dict[str, Any]:
        self.closing = True
        count = len(self.watchers)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                asyncio.gather(
                    *(watcher.ws.close() for watcher in self.watchers), return_exceptions=True
                ),
                60,
            )
        for reader in list(self.readers):
            reader.cancel()
        await asyncio.gather(*self.readers, return_exceptions=True)
        self._reset()
        return {"closed": count}

    async def shutdown(self) -> None:
        if self.watchers:
            await self.do_close()


class SpreadSender(Sender):
    """sendMessage to the ticket the plan names for each sequence number (as the admin)."""

    def __init__(self, index: int) -> None:
        super().__init__(index)
        self.ticket_ids: list[str] = []
        self.plans: dict[str, list[int]] = {}
        # Per phase: each message's send time and how long sendMessage took to answer.
        self.answers: dict[str, dict[int, tuple[float, float]]] = {}

    async def do_plan(self, ticket_ids: list[str], plans: dict[str, list[int]]) -> dict[str, Any]:
        self.ticket_ids = ticket_ids
        self.plans = plans
        return {"tickets": len(ticket_ids), "phases": {tag: len(p) for tag, p in plans.items()}}

    async def _send(self, tag: str, seq: int) -> Outcome:
        # Warm-up messages go to ticket `seq`; the others where the plan says.
        ticket = seq if tag == WARMUP else self.plans[tag][seq]
        sent = time.time()
        text = body(tag, seq, sent)
        ok = True
        try:
            assert self.http is not None, "configure the sender for graphql first"
            response = await self.http.post(
                self.target["url"],
                json={
                    "query": SEND_MESSAGE,
                    "variables": {"input": {"ticketId": self.ticket_ids[ticket], "body": text}},
                },
            )
            answer = response.json()
            if response.status_code != 200 or answer.get("errors"):
                ok = False
                self.error_sample = self.error_sample or response.text[:2000]
        except Exception as error:
            ok = False
            self.error_sample = self.error_sample or repr(error)
        took = time.time() - sent
        self.answers.setdefault(tag, {})[seq] = (sent, took)
        return seq, sent, took, ok

    async def do_answers(self, tag: str) -> dict[int, tuple[float, float]]:
        return self.answers.get(tag, {})

    async def do_warm_tickets(self, tickets: list[int], concurrency: int) -> dict[str, Any]:
        """One warm-up message to each of `tickets`, `concurrency` at a time."""
        pending = iter(tickets)
        outcomes: list[Outcome] = []

        async def sender() -> None:
            for ticket in pending:
                outcomes.append(await self._send(WARMUP, ticket))

        started = time.monotonic()
        await asyncio.gather(*(sender() for _ in range(concurrency)))
        return {
            "sent": len(outcomes),
            "failed": sorted(seq for seq, _, _, ok in outcomes if not ok),
            "seconds": round(time.monotonic() - started, 2),
            "error_sample": self.error_sample,
        }
