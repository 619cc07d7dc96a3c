"""A closed-loop HTTP load generator: client processes of keep-alive connections.

Each client process (a `LoadClient` in a `WorkerPool`) holds its share of the
connections; each connection sends one POST, waits for the whole response,
and sends the next, so the number of requests in flight is the number of
connections (the concurrency). The requests are pre-built bytes of HTTP/1.1
over a plain asyncio protocol on uvloop: no HTTP library, no JSON parsing on
the hot path (a response counts as an error when its status is not 200 or its
body holds `"errors":`), so a request costs the client about 25 µs of CPU
(measured against a stub server that answers at once): on two cores shared
with the server, MariaDB and Redis, the client must cost next to nothing.
The client's CPU is measured all the same (cpu.py) and reported beside the
result.

A run has a start on the wall clock, shared by every process, and a length:
a request counts when it completes inside the window, with the time it took
from its first byte sent to its last byte received.
"""

from __future__ import annotations

import asyncio
import time
from array import array
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit

from lib.stats import percentiles_ms

# In a request body, replaced by "<connection>-<sequence number>" per request,
# so that each message of a mutation benchmark is distinct.
SEQ_SLOT = "@@seq@@"
CONNECT_TIMEOUT_SECONDS = 10.0
ERROR_MARK = b'"errors":'


class ResponseError(Exception):
    """A response this client cannot read (it speaks Content-Length only)."""


@dataclass(frozen=True)
class ConnectionPlan:
    """One connection: whose token it sends and the JSON body of its requests."""

    token: str
    body: str


@dataclass(frozen=True)
class LoadSpec:
    url: str  # http://host:port/path
    connections: list[ConnectionPlan]


class _Http(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection, one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but behave as one.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        try:
            response = self._response()
        except ResponseError as error:
            waiter.set_exception(error)
            return
        if response is not None:
            waiter.set_result(response)

    def _response(self) -> tuple[int, bytes] | None:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = bytes(self.buffer[:end]).lower()
        start = head.find(b"\r\ncontent-length:")
        if start < 0:
            raise ResponseError(f"no Content-Length: {head[:500]!r}")
        stop = head.find(b"\r\n", start + 2)
        length = int(head[start + 17 : stop if stop >= 0 else len(head)])
        total = end + 4 + length
        if len(self.buffer) < total:
            return None
        body = bytes(self.buffer[end + 4 : total])
        del self.buffer[:total]
        return int(head[9:12]), body

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError(f"connection lost: {exc!r}"))

    async def request(self, data: bytes) -> tuple[int, bytes]:
        assert self.transport is not None
        if self.lost:
            raise ConnectionError("connection closed by the server")
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        try:
            return await self.waiter
        finally:
            self.waiter = None

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class _Requests:
    """The bytes of one connection's requests: constant, or numbered per request."""

    def __init__(self, host: str, path: str, plan: ConnectionPlan, name: str) -> None:
        self.head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\n"
            "Content-Type: application/json\r\nAccept: application/json\r\n"
            f"Authorization: Bearer {plan.token}\r\nContent-Length: "
        ).encode()
        before, slot, after = plan.body.partition(SEQ_SLOT)
        self.before, self.after = before.encode(), after.encode()
        self.numbered = bool(slot)
        self.name = name.encode()
        self.seq = 0
        self.constant = self._build(plan.body.encode())

    def _build(self, body: bytes) -> bytes:
        return self.head + str(len(body)).encode() + b"\r\n\r\n" + body

    def next(self) -> bytes:
        if not self.numbered:
            return self.constant
        self.seq += 1
        return self._build(self.before + self.name + b"-" + str(self.seq).encode() + self.after)


class LoadClient:
    """A client process's connections (a `WorkerPool` handler)."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.host = ""
        self.port = 0
        self.path = ""
        self.plans: list[ConnectionPlan] = []
        self.connections: list[_Http | None] = []
        self.requests: list[_Requests] = []

    async def _open(self) -> _Http:
        loop = asyncio.get_running_loop()
        _, protocol = await asyncio.wait_for(
            loop.create_connection(_Http, self.host, self.port), CONNECT_TIMEOUT_SECONDS
        )
        return protocol

    async def do_configure(self, spec: LoadSpec) -> dict[str, Any]:
        await self.shutdown()
        parts = urlsplit(spec.url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.path = parts.path or "/"
        self.plans = spec.connections
        authority = f"{self.host}:{self.port}"
        self.requests = [
            _Requests(authority, self.path, plan, f"{self.index}.{number}")
            for number, plan in enumerate(self.plans)
        ]
        self.connections = list(await asyncio.gather(*(self._open() for _ in self.plans)))
        return {"connections": len(self.connections)}

    async def do_run(self, start_at: float, seconds: float, record: bool) -> dict[str, Any]:
        """Load from `start_at` (wall clock) for `seconds`; what completed in the window."""
        latencies = array("d")
        state: dict[str, Any] = {"errors": 0, "ok": 0, "statuses": {}, "sample": None}
        loop = asyncio.get_running_loop()
        # The shared start is on the wall clock; the loop measures on its own.
        begin = loop.time() + max(start_at - time.time(), 0.0)
        end = begin + seconds

        async def one(slot: int) -> None:
            requests = self.requests[slot]
            await asyncio.sleep(max(begin - loop.time(), 0.0))
            while True:
                connection = self.connections[slot]
                sent = time.perf_counter()
                try:
                    if connection is None or connection.lost:
                        # Never opened, failed, or closed by the server while idle
                        # (keep-alive timeout): a new connection, timed with the request.
                        connection = self.connections[slot] = await self._open()
                    status, body = await connection.request(requests.next())
                    error = None
                    if status != 200 or ERROR_MARK in body:
                        error = f"HTTP {status}: {body[:1000].decode(errors='replace')}"
                except (OSError, ResponseError, TimeoutError, ValueError) as failure:
                    status, error = 0, repr(failure)
                    if connection is not None:
                        connection.close()
                    self.connections[slot] = None
                took = time.perf_counter() - sent
                now = loop.time()
                if now > end:
                    return
                statuses = state["statuses"]
                statuses[status] = statuses.get(status, 0) + 1
                if error is None:
                    state["ok"] += 1
                    if record:
                        latencies.append(took)
                else:
                    state["errors"] += 1
                    state["sample"] = state["sample"] or error
                    if self.connections[slot] is None:
                        await asyncio.sleep(0.05)  # a refused connect must not spin

        await asyncio.gather(*(one(slot) for slot in range(len(self.requests))))
        return {
            "connections": len(self.requests),
            "ok": state["ok"],
            "errors": state["errors"],
            "statuses": {str(k): v for k, v in state["statuses"].items()},
            "error_sample": state["sample"],
            "latencies": latencies.tobytes(),
        }

    async def shutdown(self) -> None:
        for connection in self.connections:
            if connection is not None:
                connection.close()
        self.connections = []


def split_plans(plans: list[ConnectionPlan], parts: int) -> list[list[ConnectionPlan]]:
    """Deal the connections out to the client processes, round robin."""
    return [plans[index::parts] for index in range(parts)]


def summary(parts: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
    """One run over every client process: throughput, latency, errors."""
    latencies = array("d")
    for part in parts:
        latencies.frombytes(part["latencies"])
    ok = sum(part["ok"] for part in parts)
    statuses: dict[str, int] = {}
    for part in parts:
        for status, count in part["statuses"].items():
            statuses[status] = statuses.get(status, 0) + count
    return {
        "seconds": seconds,
        "connections": sum(part["connections"] for part in parts),
        "requests": ok,
        "errors": sum(part["errors"] for part in parts),
        "requests_per_s": round(ok / seconds, 1),
        "latency_ms": percentiles_ms(latencies),
        "statuses": statuses,
        "error_sample": next(
            (part["error_sample"] for part in parts if part["error_sample"]), None
        ),
    }
