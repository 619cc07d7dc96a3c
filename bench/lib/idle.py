"""The memory benchmark's client process: many idle connections, subscribed on request.

Connections are opened in two steps so that the server's memory can be read in
between: `connect` opens acknowledged graphql-transport-ws connections
(`connection_init` with the access token, `connection_ack`) that subscribe to
nothing; `subscribe` then sends one `subscribe` of `messageAdded(ticketId)`
on each. A `probe` message proves every subscription live: a subscriber is only
known to be subscribed once something has come through it. Between probes the
connections are idle: nothing is sent but the server's pings and their pongs.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import time
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from lib.wsclient import answer_control, open_acknowledged, subscribe_frame

OPERATION_ID = "1"
CONNECT_ATTEMPTS = 5
PROBE = re.compile(r"bench probe=(\d+)")


def probe_body(seq: int) -> str:
    return f"bench probe={seq:06d}"


class Connection:
    __slots__ = ("probe", "step", "subscribed", "ws")

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.subscribed = False
        self.step = -1  # the step that subscribed it (its subscription's ticket)
        self.probe = -1  # the last probe received


class IdleClients:
    """The handler of one client process (see workers.py for the command loop)."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.connections: list[Connection] = []
        self.readers: set[asyncio.Task[None]] = set()
        self.errors = 0
        self.ended = 0
        self.connect_retries = 0
        self.retry_sample: str | None = None
        self.error_sample: str | None = None
        self.dropped = 0
        self.closing = False

    async def do_connect(
        self, url: str, init_payloads: list[dict[str, Any]], count: int, concurrency: int
    ) -> dict[str, Any]:
        """Open `count` more acknowledged connections, subscribed to nothing; the
        sessions (`connection_init` payloads) taken in turn."""
        gate = asyncio.Semaphore(concurrency)
        started = time.monotonic()

        async def one(number: int) -> None:
            for attempt in range(1, CONNECT_ATTEMPTS + 1):
                try:
                    async with gate:
                        ws = await open_acknowledged(
                            url, init_payloads[number % len(init_payloads)]
                        )
                    break
                except Exception as error:
                    # A busy server may drop a handshake: retry, as a client library does.
                    self.connect_retries += 1
                    self.retry_sample = self.retry_sample or repr(error)
                    if attempt == CONNECT_ATTEMPTS:
                        raise
                    await asyncio.sleep(attempt * (0.5 + random.random()))  # noqa: S311
            connection = Connection(ws)
            self.connections.append(connection)
            reader = asyncio.create_task(self._read(connection))
            self.readers.add(reader)
            reader.add_done_callback(self.readers.discard)

        first = len(self.connections)
        outcomes = await asyncio.gather(
            *(one(first + number) for number in range(count)), return_exceptions=True
        )
        failures = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
        return {
            "connected": count - len(failures),
            "failed": len(failures),
            "first_failure": repr(failures[0]) if failures else None,
            "seconds": round(time.monotonic() - started, 2),
            "open": len(self.connections),
            "retries": self.connect_retries,
            "retry_sample": self.retry_sample,
        }

    async def _read(self, connection: Connection) -> None:
        try:
            async for frame in connection.ws:
                text = frame if isinstance(frame, str) else frame.decode()
                probe = PROBE.search(text)
                if probe is not None:
                    connection.probe = max(connection.probe, int(probe.group(1)))
                    continue
                kind = await answer_control(connection.ws, text)
                if kind is None:
                    continue
                self.errors += 1  # an error, a completion, or a next without a probe
                self.error_sample = self.error_sample or text[:2000]
                if kind in ("error", "complete"):
                    # The subscription ended (the server failed it): `subscribe`
                    # sends it again, as an application retrying would.
                    connection.subscribed = False
                    self.ended += 1
        except ConnectionClosed:
            pass
        finally:
            if not self.closing:
                self.dropped += 1

    async def do_subscribe(
        self, step: int, query: str, variables: dict[str, Any], per_second: float
    ) -> dict[str, Any]:
        """One subscription on every connection that has none, `per_second` at most:
        the protocol acknowledges no subscribe, so a burst cannot be held back by
        waiting for answers, only by pacing. A connection whose subscription the
        server ended keeps its step: it subscribes again to the same ticket."""
        frame = subscribe_frame(OPERATION_ID, query, variables)
        pending = [c for c in self.connections if not c.subscribed]
        for connection in pending:
            if connection.step >= 0 and connection.step != step:
                raise RuntimeError("a subscription of an earlier step ended")
            connection.step = step
        loop = asyncio.get_running_loop()
        start = loop.time()
        for number, connection in enumerate(pending):
            connection.subscribed = True
            with contextlib.suppress(ConnectionClosed):
                await connection.ws.send(frame)
            await asyncio.sleep(max(start + (number + 1) / per_second - loop.time(), 0))
        return {"subscribed": len(pending), "seconds": round(loop.time() - start, 2)}

    async def do_probe(
        self, step: int, first: int, quiet_seconds: float, limit_seconds: float
    ) -> dict[str, Any]:
        """Wait until every connection subscribed in `step` has received a probe numbered
        `first` or later, or none has arrived for `quiet_seconds` (a subscribe that the
        server took after the probe was sent misses it: the caller then sends another)."""
        subscribed = [c for c in self.connections if c.step == step]
        started = progress_at = time.monotonic()
        received = 0
        while True:
            now = time.monotonic()
            count = sum(1 for c in subscribed if c.probe >= first)
            if count != received:
                received, progress_at = count, now
            if count == len(subscribed) or now - progress_at > quiet_seconds:
                break
            if now - started > limit_seconds:
                break
            await asyncio.sleep(0.1)
        return {
            "received": received,
            "of": len(subscribed),
            "seconds": round(time.monotonic() - started, 2),
            "errors": self.errors,
            "ended": self.ended,
            "error_sample": self.error_sample,
            "dropped": self.dropped,
        }

    async def do_deflate_offer(self, url: str, init_payload: dict[str, Any]) -> dict[str, Any]:
        """Offer permessage-deflate as a browser does; what the server answers."""
        ws = await open_acknowledged(url, init_payload, compression="deflate")
        try:
            assert ws.response is not None
            answer = ws.response.headers.get("Sec-WebSocket-Extensions")
            offered = ws.request.headers.get("Sec-WebSocket-Extensions") if ws.request else None
        finally:
            await ws.close()
        return {"offered": offered, "accepted": answer}

    async def do_close(self) -> dict[str, Any]:
        self.closing = True
        count = len(self.connections)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                asyncio.gather(*(c.ws.close() for c in self.connections), return_exceptions=True),
                120,
            )
        for reader in list(self.readers):
            reader.cancel()
        await asyncio.gather(*self.readers, return_exceptions=True)
        self.connections = []
        self.closing = False
        self.dropped = 0
        self.errors = 0
        self.ended = 0
        self.error_sample = None
        return {"closed": count}

    async def shutdown(self) -> None:
        if self.connections:
            await self.do_close()
