"""The reconnect storm: subscribers that drop and resume, and a sender that keeps going.

`StormClients` (one per client process) holds subscriptions of
`messageAdded(ticketId)`, one per socket, and records every message id each
one receives, over all of its connections. On `storm`, at an agreed instant,
every socket of every process is aborted at once (the TCP connection closed
without a WebSocket close handshake, as when a network drops) and each
subscriber reconnects and subscribes again with `after: <the last id it
received>`, the way a client library resumes. A subscriber has caught up when
it receives the first message the server created (`createdAt`) after its new
`subscribe` went out: the stream is in order, so by then it has replayed
everything before and is live. (The sender's clock would charge the catch-up
with the time a `sendMessage` waits in a busy server.) At the end each
subscriber's ids are checked against the ids the sender created: none missing
(`lost`), none twice (`dup`), in order. Delivery latencies run from
`createdAt` to receipt.

A socket the server closes (outside the storm) is reopened the same way, and
counted: a real client library would reconnect too.

`StormSender` sends `sendMessage` over HTTP at a steady rate for as long as it
is told, and keeps the id the server gave each message.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import random
import re
import time
from array import array
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from lib.api import SEND_MESSAGE
from lib.protocol import STEADY, body
from lib.stats import percentiles_ms
from lib.wsclient import answer_control, open_acknowledged, subscribe_frame

OPERATION_ID = "1"
# What a chat front end asks for, as in the fan-out benchmark, with `after` to resume.
MESSAGE_ADDED_AFTER = """
subscription Chat($ticketId: ID!, $after: ID) {
  messageAdded(ticketId: $ticketId, after: $after) {
    id ticketId body createdAt author { id displayName }
  }
}
"""
# The message id is the selection's first field, so it opens the object.
MESSAGE_ID = re.compile(r'"messageAdded":\s*\{"id":\s*"(\d+)"')
# When the server created the message (its clock is this machine's clock).
CREATED_AT = re.compile(r'"createdAt":\s*"([^"]+)"')
RETRY_SECONDS = 0.5  # a failed reconnect waits this long times the attempt number (jittered)
STOP_GRACE_SECONDS = 45.0  # the server gives up on a request after 30 s


@dataclass(frozen=True)
class StormSpec:
    url: str
    init_payloads: list[dict[str, Any]]  # one session each, spread over the subscribers
    ticket_id: str
    count: int
    concurrency: int  # handshakes in flight at once in this process


class Subscriber:
    __slots__ = (
        "after",
        "attempts",
        "caught_up",
        "first_frame",
        "generation",
        "ids",
        "index",
        "init_payload",
        "replayed",
        "subscribe_sent",
        "ws",
    )

    def __init__(self, index: int, init_payload: dict[str, Any]) -> None:
        self.index = index
        self.init_payload = init_payload
        self.ws: ClientConnection | None = None
        self.generation = 0  # which connection is current: frames of older ones are ignored
        self.ids = array("q")  # every message id received, in order of receipt
        self.after: int | None = None  # the last id received before the drop
        self.subscribe_sent = 0.0  # time.time() just before the last subscribe went out
        self.first_frame = 0.0  # first message after the drop
        self.caught_up = 0.0
        self.replayed = 0  # messages after the drop that were sent before the subscribe
        self.attempts = 0  # connection attempts after the drop


def _array_bytes(values: list[float]) -> bytes:
    return array("d", values).tobytes()


class StormClients:
    """The handler of one client process (see workers.py for the command loop)."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.spec: StormSpec | None = None
        self.subscribers: list[Subscriber] = []
        self.readers: dict[int, asyncio.Task[None]] = {}
        self.reconnects: list[asyncio.Task[None]] = []
        self.gate = asyncio.Semaphore(1)
        self.warm = 0
        self.caught = 0
        self.all_warm = asyncio.Event()
        self.all_caught = asyncio.Event()
        self.measuring = False
        self.stormed = False
        self.dropped_at = 0.0
        self.latencies_before = array("d")  # live deliveries before the drop
        self.latencies_after = array("d")  # live deliveries once caught up
        self.errors = 0
        self.error_sample: str | None = None
        self.server_closed = {"before": 0, "after": 0}
        self.ended = {"before": 0, "after": 0}  # subscriptions the server ended with an error
        self.retries: set[asyncio.Task[None]] = set()
        self.reconnect_failures = 0
        self.failure_sample: str | None = None
        self.closing = False

    # -- connecting ---------------------------------------------------------

    async def _subscribe(self, subscriber: Subscriber, deadline: float) -> None:
        """(Re)open the subscriber's socket and subscribe from its last id; retry until
        `deadline` (monotonic), as a client library retries with backoff."""
        assert self.spec is not None
        attempt = 0
        while True:
            attempt += 1
            subscriber.attempts += 1
            try:
                async with self.gate:
                    ws = await open_acknowledged(self.spec.url, subscriber.init_payload)
                    variables: dict[str, Any] = {"ticketId": self.spec.ticket_id}
                    if subscriber.after is not None:
                        variables["after"] = str(subscriber.after)
                    subscriber.subscribe_sent = time.time()
                    await ws.send(subscribe_frame(OPERATION_ID, MESSAGE_ADDED_AFTER, variables))
            except Exception as error:
                self.reconnect_failures += 1
                self.failure_sample = self.failure_sample or repr(error)
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(RETRY_SECONDS * attempt * (0.5 + random.random()))  # noqa: S311
                continue
            subscriber.ws = ws
            generation = subscriber.generation
            self.readers[subscriber.index] = asyncio.create_task(
                self._read(subscriber, ws, generation)
            )
            return

    async def do_connect(self, spec: StormSpec) -> dict[str, Any]:
        self.spec = spec
        self.gate = asyncio.Semaphore(spec.concurrency)
        self.subscribers = [
            Subscriber(index, spec.init_payloads[index % len(spec.init_payloads)])
            for index in range(spec.count)
        ]
        started = time.monotonic()
        deadline = started + 120
        outcomes = await asyncio.gather(
            *(self._subscribe(s, deadline) for s in self.subscribers), return_exceptions=True
        )
        failures = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
        for subscriber in self.subscribers:
            subscriber.attempts = 0
        return {
            "connected": spec.count - len(failures),
            "failed": len(failures),
            "first_failure": repr(failures[0]) if failures else None,
            "seconds": round(time.monotonic() - started, 2),
        }

    # -- reading ------------------------------------------------------------

    async def _read(self, subscriber: Subscriber, ws: ClientConnection, generation: int) -> None:
        try:
            async for frame in ws:
                if subscriber.generation != generation:
                    return  # dropped: what was still buffered is lost with the socket
                text = frame if isinstance(frame, str) else frame.decode()
                now = time.time()
                found = MESSAGE_ID.search(text)
                if found is None:
                    kind = await answer_control(ws, text)
                    if kind is None:
                        continue
                    self.errors += 1  # an error, a completion, or a next of something else
                    self.error_sample = self.error_sample or text[:2000]
                    if kind in ("error", "complete"):
                        # The server ended the subscription: subscribe again from
                        # the last id, as an application that retries would.
                        self.ended["after" if self.stormed else "before"] += 1
                        retry = asyncio.create_task(self._resubscribe(subscriber, ws, generation))
                        self.retries.add(retry)
                        retry.add_done_callback(self.retries.discard)
                    continue
                self._received(subscriber, int(found.group(1)), text, now)
        except ConnectionClosed:
            pass
        if subscriber.generation != generation or self.closing:
            return
        # The server closed it: reconnect from the last id, as a client library would.
        self.server_closed["after" if self.stormed else "before"] += 1
        subscriber.generation += 1
        subscriber.ws = None
        subscriber.after = subscriber.ids[-1] if subscriber.ids else subscriber.after
        with contextlib.suppress(Exception):
            await self._subscribe(subscriber, time.monotonic() + 60)

    async def _resubscribe(
        self, subscriber: Subscriber, ws: ClientConnection, generation: int
    ) -> None:
        assert self.spec is not None
        await asyncio.sleep(RETRY_SECONDS * (1 + random.random()))  # noqa: S311
        if subscriber.generation != generation:
            return  # the socket has gone meanwhile; its reconnect subscribes
        if subscriber.ids:
            subscriber.after = subscriber.ids[-1]
        variables: dict[str, Any] = {"ticketId": self.spec.ticket_id}
        if subscriber.after is not None:
            variables["after"] = str(subscriber.after)
        subscriber.subscribe_sent = time.time()
        with contextlib.suppress(ConnectionClosed):
            await ws.send(subscribe_frame(OPERATION_ID, MESSAGE_ADDED_AFTER, variables))

    def _received(self, subscriber: Subscriber, message_id: int, text: str, now: float) -> None:
        was_warm = len(subscriber.ids) > 0
        subscriber.ids.append(message_id)
        stamp = CREATED_AT.search(text)
        created = datetime.fromisoformat(stamp.group(1)).timestamp() if stamp else 0.0
        if not self.stormed:
            if not was_warm:
                self.warm += 1
                if self.warm >= len(self.subscribers):
                    self.all_warm.set()
            elif self.measuring:
                self.latencies_before.append(now - created)
            return
        if subscriber.first_frame == 0.0:
            subscriber.first_frame = now
        if subscriber.caught_up == 0.0:
            # The first message created after the new subscribe: the replay is
            # done and the stream is live.
            if created > subscriber.subscribe_sent:
                subscriber.caught_up = now
                self.caught += 1
                if self.caught >= len(self.subscribers):
                    self.all_caught.set()
            else:
                subscriber.replayed += 1
        else:
            self.latencies_after.append(now - created)

    # -- commands -----------------------------------------------------------

    async def do_warm(self, limit_seconds: float) -> dict[str, Any]:
        """Wait until every subscriber has received a message (its subscription is live)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.all_warm.wait(), limit_seconds)
        self.measuring = True
        return {"warm": self.warm, "of": len(self.subscribers)}

    async def do_storm(self, drop_at: float, limit_seconds: float) -> dict[str, Any]:
        """At `drop_at` (time.time()) abort every socket, then resubscribe all from their
        last ids; answer once every subscriber has subscribed again, or `limit_seconds`
        after the drop (those still reconnecting go on meanwhile)."""
        await asyncio.sleep(max(drop_at - time.time(), 0))
        self.dropped_at = time.time()
        self.stormed = True
        self.measuring = False
        # No await in this loop: no reader runs in between, so each subscriber's
        # last id is exactly what it had received when its socket went.
        for subscriber in self.subscribers:
            subscriber.generation += 1
            subscriber.after = subscriber.ids[-1] if subscriber.ids else None
            if subscriber.ws is not None:
                subscriber.ws.transport.abort()
                subscriber.ws = None
        for reader in self.readers.values():
            reader.cancel()
        await asyncio.gather(*self.readers.values(), return_exceptions=True)
        self.readers.clear()
        deadline = time.monotonic() + limit_seconds
        self.reconnects = [
            asyncio.create_task(self._subscribe(s, deadline)) for s in self.subscribers
        ]
        _, pending = await asyncio.wait(
            self.reconnects, timeout=max(drop_at + limit_seconds - time.time(), 0)
        )
        failures = [
            task.exception() for task in self.reconnects if task.done() and task.exception()
        ]
        resubscribed = [s.subscribe_sent - drop_at for s in self.subscribers if s.ws is not None]
        return {
            "drop_lag_ms": round((self.dropped_at - drop_at) * 1000, 1),
            "resubscribed": len(resubscribed),
            "still_reconnecting": len(pending),
            "failed": len(failures),
            "first_failure": repr(failures[0]) if failures else None,
            "attempts": sum(s.attempts for s in self.subscribers),
            "without_after": sum(1 for s in self.subscribers if s.after is None),
            "resubscribe_seconds": _array_bytes(resubscribed),
        }

    async def do_caught(self, drop_at: float, limit_seconds: float) -> dict[str, Any]:
        """Wait until every subscriber has caught up, or `limit_seconds` after the drop;
        their times from the drop."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                self.all_caught.wait(), max(drop_at + limit_seconds - time.time(), 0.01)
            )
        caught = [s.caught_up - drop_at for s in self.subscribers if s.caught_up]
        first = [s.first_frame - drop_at for s in self.subscribers if s.first_frame]
        return {
            "caught": self.caught,
            "of": len(self.subscribers),
            "catch_up_seconds": _array_bytes(caught),
            "first_frame_seconds": _array_bytes(first),
            "replayed": sum(s.replayed for s in self.subscribers),
            "replayed_max": max((s.replayed for s in self.subscribers), default=0),
        }

    async def do_finish(
        self, ids: list[int], quiet_seconds: float, limit_seconds: float
    ) -> dict[str, Any]:
        """Once the sender has stopped: wait for its last message everywhere (or quiet),
        then check each subscriber's ids against the ids the sender created."""
        last = max(ids) if ids else 0
        started = progress_at = time.monotonic()
        seen = -1
        while True:
            behind = sum(1 for s in self.subscribers if not s.ids or s.ids[-1] < last)
            now = time.monotonic()
            if behind == 0 or now - progress_at > quiet_seconds or now - started > limit_seconds:
                break
            total = sum(len(s.ids) for s in self.subscribers)
            if total != seen:
                seen, progress_at = total, now
            await asyncio.sleep(0.1)
        return {**self._check(sorted(ids)), "subscribers_short_at_end": behind}

    def _check(self, sent: list[int]) -> dict[str, Any]:
        """Each subscriber's ids against the ids the sender created, from its first one.

        The stream is in order, so a missing id below the last one received will
        never come: `lost`. Missing ids above it may still be on their way (a
        subscriber still catching up when the run ends): `behind`, not lost.
        """
        known = set(sent)
        totals = {
            "lost_before_drop": 0,
            "lost_after_drop": 0,
            "behind": 0,
            "subscribers_behind": 0,
            "dup": 0,
            "out_of_order": 0,
            "unknown": 0,
            "subscribers_with_loss": 0,
            "subscribers_with_dup": 0,
            "not_reconnected": 0,
            "deliveries": 0,
        }
        example: dict[str, Any] | None = None
        for subscriber in self.subscribers:
            received = subscriber.ids
            if subscriber.ws is None:
                totals["not_reconnected"] += 1
            if not received:
                continue
            unique = set(received)
            last = max(received)
            expected = sent[bisect.bisect_left(sent, received[0]) :]
            missing = [i for i in expected if i not in unique]
            gaps = [i for i in missing if i < last]
            after = subscriber.after if subscriber.after is not None else received[0] - 1
            before = sum(1 for i in gaps if i <= after)
            dup = len(received) - len(unique)
            totals["lost_before_drop"] += before
            totals["lost_after_drop"] += len(gaps) - before
            totals["behind"] += len(missing) - len(gaps)
            totals["subscribers_behind"] += 1 if len(missing) > len(gaps) else 0
            totals["dup"] += dup
            totals["out_of_order"] += sum(
                1 for k in range(1, len(received)) if received[k] < received[k - 1]
            )
            totals["unknown"] += len(unique - known)
            totals["subscribers_with_loss"] += 1 if gaps else 0
            totals["subscribers_with_dup"] += 1 if dup else 0
            totals["deliveries"] += len(received)
            if example is None and (gaps or dup):
                example = {
                    "after": subscriber.after,
                    "missing": gaps[:20],
                    "received_around_after": [i for i in received if after - 5 <= i <= after + 5],
                }
        return {
            **totals,
            "example": example,
            "latency_before_drop_ms": percentiles_ms(self.latencies_before),
            "latency_after_catch_up_ms": percentiles_ms(self.latencies_after),
            "errors": self.errors,
            "error_sample": self.error_sample,
            "server_closed": self.server_closed,
            "ended_by_server": self.ended,
            "reconnect_failures": self.reconnect_failures,
            "failure_sample": self.failure_sample,
        }

    async def do_close(self) -> dict[str, Any]:
        self.closing = True
        sockets = [s.ws for s in self.subscribers if s.ws is not None]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True), 60
            )
        tasks = [*self.readers.values(), *self.retries, *self.reconnects]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.readers.clear()
        self.subscribers = []
        return {"closed": len(sockets)}

    async def shutdown(self) -> None:
        if self.subscribers:
            await self.do_close()


class StormSender:
    """`sendMessage` at a steady rate until stopped; the id of every message it created."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.http: httpx.AsyncClient | None = None
        self.target: dict[str, str] = {}
        self.loop_task: asyncio.Task[None] | None = None
        self.sends: list[asyncio.Task[tuple[float, float, int | None]]] = []
        self.error_sample: str | None = None
        self.skipped = 0  # ticks of the schedule without a send: too many in flight

    async def do_configure(self, url: str, token: str, ticket_id: str) -> dict[str, Any]:
        self.target = {"url": url, "ticket_id": ticket_id}
        self.http = httpx.AsyncClient(
            headers={"authorization": f"Bearer {token}"},
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=32),
            timeout=60,
        )
        return {"configured": True}

    async def _send(self, seq: int) -> tuple[float, float, int | None]:
        """(sent at, seconds the send took, the new message's id or None)."""
        assert self.http is not None
        sent = time.time()
        variables = {
            "input": {"ticketId": self.target["ticket_id"], "body": body(STEADY, seq, sent)}
        }
        message_id: int | None = None
        try:
            response = await self.http.post(
                self.target["url"], json={"query": SEND_MESSAGE, "variables": variables}
            )
            answer = response.json()
            if response.status_code == 200 and not answer.get("errors"):
                message_id = int(answer["data"]["sendMessage"]["id"])
            else:
                self.error_sample = self.error_sample or response.text[:2000]
        except Exception as error:
            self.error_sample = self.error_sample or repr(error)
        return sent, time.time() - sent, message_id

    async def do_start(self, rate: float, max_in_flight: int) -> dict[str, Any]:
        """Send at `rate` per second on a fixed schedule (a slow send does not delay the
        next), with at most `max_in_flight` sends waiting for the server: a tick that
        finds them all waiting is skipped (counted), so that a server that falls
        behind is not also handed a growing queue (nor this process a growing CPU bill)."""

        async def keep_sending() -> None:
            loop = asyncio.get_running_loop()
            start = loop.time()
            tick = 0
            in_flight: set[asyncio.Task[tuple[float, float, int | None]]] = set()
            while True:
                if len(in_flight) < max_in_flight:
                    send = asyncio.create_task(self._send(len(self.sends)))
                    self.sends.append(send)
                    in_flight.add(send)
                    send.add_done_callback(in_flight.discard)
                else:
                    self.skipped += 1
                tick += 1
                await asyncio.sleep(max(start + tick / rate - loop.time(), 0))

        self.loop_task = asyncio.create_task(keep_sending())
        return {"started": True}

    async def do_stop(self) -> dict[str, Any]:
        """Stop sending; wait a while for the sends in flight, then give up on them
        (their ids stay unknown: a subscriber that receives one counts it `unknown`)."""
        if self.loop_task is not None:
            self.loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.loop_task
            self.loop_task = None
        _, pending = await asyncio.wait(self.sends, timeout=STOP_GRACE_SECONDS)
        for task in pending:
            task.cancel()
        outcomes = [
            task.result() if not task.cancelled() else (0.0, STOP_GRACE_SECONDS, None)
            for task in self.sends
            if task.done()
        ]
        await asyncio.gather(*pending, return_exceptions=True)
        outcomes += [(0.0, STOP_GRACE_SECONDS, None) for task in pending]
        ids = [message_id for _, _, message_id in outcomes if message_id is not None]
        return {
            "sent": len(outcomes),
            "failed": len(outcomes) - len(ids),
            "abandoned_at_stop": len(pending),
            "ticks_skipped": self.skipped,
            "ids": ids,
            "first_send": min((sent for sent, _, _ in outcomes if sent), default=None),
            "last_send": max((sent for sent, _, _ in outcomes), default=None),
            "send_ms": percentiles_ms([seconds for _, seconds, _ in outcomes]),
            "error_sample": self.error_sample,
        }

    async def shutdown(self) -> None:
        if self.loop_task is not None:
            self.loop_task.cancel()
        if self.http is not None:
            await self.http.aclose()
