"""The sender process: publishes the benchmark's messages, warm-up, steady or back to back.

To the real server it sends `sendMessage` over HTTP (one httpx client,
keep-alive); to a reference server it publishes to Redis directly, a
pre-serialized frame or row with the body filled in. Either way the body
carries time.time() taken just before the send (protocol.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import httpx
from redis.asyncio import Redis

from lib.api import SEND_MESSAGE
from lib.protocol import BODY_SLOT, WARMUP, body
from lib.stats import percentiles_ms

Outcome = tuple[int, float, float, bool]  # seq, sent at, seconds the send took, ok


class Sender:
    def __init__(self, index: int) -> None:
        self.index = index
        self.target: dict[str, Any] = {}
        self.http: httpx.AsyncClient | None = None
        self.redis: Redis | None = None
        self.warming: asyncio.Task[int] | None = None
        self.error_sample: str | None = None

    async def do_configure(self, target: dict[str, Any]) -> dict[str, Any]:
        """`{"kind": "graphql", url, token, ticket_id}` or `{"kind": "redis", url, channel,
        template}`."""
        await self._close_clients()
        self.target = target
        self.error_sample = None
        if target["kind"] == "graphql":
            self.http = httpx.AsyncClient(
                headers={"authorization": f"Bearer {target['token']}"},
                limits=httpx.Limits(max_connections=32, max_keepalive_connections=32),
                timeout=60,
            )
        else:
            self.redis = Redis.from_url(target["url"])
        return {"configured": target["kind"]}

    async def _send(self, tag: str, seq: int) -> Outcome:
        sent = time.time()
        text = body(tag, seq, sent)
        ok = True
        try:
            if self.http is not None:
                response = await self.http.post(
                    self.target["url"],
                    json={
                        "query": SEND_MESSAGE,
                        "variables": {
                            "input": {"ticketId": self.target["ticket_id"], "body": text}
                        },
                    },
                )
                answer = response.json()
                if response.status_code != 200 or answer.get("errors"):
                    ok = False
                    self.error_sample = self.error_sample or response.text[:2000]
            else:
                assert self.redis is not None
                frame = self.target["template"].replace(BODY_SLOT, text)
                await self.redis.publish(self.target["channel"], frame)
        except Exception as error:
            ok = False
            self.error_sample = self.error_sample or repr(error)
        return seq, sent, time.time() - sent, ok

    async def do_warmup_start(self, interval: float) -> dict[str, Any]:
        async def keep_sending() -> int:
            seq = 0
            while True:
                await self._send(WARMUP, seq)
                seq += 1
                await asyncio.sleep(interval)

        self.warming = asyncio.create_task(keep_sending())
        return {"warming": True}

    async def do_warmup_stop(self) -> dict[str, Any]:
        if self.warming is not None:
            self.warming.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.warming
            self.warming = None
        return {"warming": False}

    async def do_steady(self, tag: str, count: int, rate: float) -> dict[str, Any]:
        """`count` messages at `rate` per second, on a fixed schedule: a slow send
        does not delay the next one (each runs in its own task)."""
        loop = asyncio.get_running_loop()
        start = loop.time() + 0.1
        sends = []
        for seq in range(count):
            delay = start + seq / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            sends.append(asyncio.create_task(self._send(tag, seq)))
        return self._summary(await asyncio.gather(*sends))

    async def do_burst(self, tag: str, count: int, concurrency: int) -> dict[str, Any]:
        """`count` messages back to back from `concurrency` senders at once."""
        sequence = iter(range(count))
        outcomes: list[Outcome] = []

        async def sender() -> None:
            for seq in sequence:  # shared: each seq is taken by one sender
                outcomes.append(await self._send(tag, seq))

        await asyncio.gather(*(sender() for _ in range(concurrency)))
        return self._summary(outcomes)

    def _summary(self, outcomes: list[Outcome]) -> dict[str, Any]:
        sent_at = [sent for _, sent, _, _ in outcomes]
        return {
            "sent": len(outcomes),
            "failed": sorted(seq for seq, _, _, ok in outcomes if not ok),
            "first_send": min(sent_at),
            "last_send": max(sent_at),
            "send_ms": percentiles_ms([seconds for _, _, seconds, _ in outcomes]),
            "error_sample": self.error_sample,
        }

    async def _close_clients(self) -> None:
        if self.http is not None:
            await self.http.aclose()
            self.http = None
        if self.redis is not None:
            await self.redis.aclose()
            self.redis = None

    async def shutdown(self) -> None:
        await self.do_warmup_stop()
        await self._close_clients()
