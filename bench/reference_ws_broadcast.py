"""Reference (a), the ceiling: the same frames broadcast by a bare `websockets` server.

It speaks just enough graphql-transport-ws for the benchmark's clients (ack
`connection_init`, accept `subscribe`, answer `ping`) and does no GraphQL at
all: each process holds one Redis pub/sub connection and, for every frame
published there, already serialized by the sender, calls websockets.broadcast()
(encode once, write to every socket). No server here can deliver the same
bytes through Redis to the same sockets with less work, so it bounds what ours
could reach.

Every client uses operation id "1", so one pre-serialized `next` frame is
right for all of them.

    python bench/reference_ws_broadcast.py --port 9000 --processes 2 \
        --redis-url redis://127.0.0.1:6379/0 --channel bench:x:fanout

The processes share the port with SO_REUSEPORT (the kernel spreads
connections). SIGTERM stops them all.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import signal
from functools import partial

from lib.limits import raise_open_files
from redis.asyncio import Redis
from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.typing import Subprotocol

ACK = '{"type":"connection_ack"}'
PONG = '{"type":"pong"}'


async def handle(ws: ServerConnection, subscribed: set[ServerConnection]) -> None:
    try:
        async for raw in ws:
            kind = json.loads(raw).get("type")
            if kind == "connection_init":
                await ws.send(ACK)
            elif kind == "subscribe":
                subscribed.add(ws)
            elif kind == "complete":
                subscribed.discard(ws)
            elif kind == "ping":
                await ws.send(PONG)
    finally:
        subscribed.discard(ws)


async def relay(redis_url: str, channel: str, subscribed: set[ServerConnection]) -> None:
    redis = Redis.from_url(redis_url)
    pubsub = redis.pubsub()
    await pubsub.subscribe(channel)
    try:
        async for message in pubsub.listen():
            if message["type"] == "message":
                # Bytes sent as text: the frame is UTF-8 JSON already, nothing to encode.
                broadcast(subscribed, message["data"], text=True)
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]
        await redis.aclose()


def _stop_once(stop: asyncio.Future[None]) -> None:
    if not stop.done():
        stop.set_result(None)


async def run(port: int, redis_url: str, channel: str) -> None:
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, _stop_once, stop)
    subscribed: set[ServerConnection] = set()
    async with serve(
        partial(handle, subscribed=subscribed),
        "127.0.0.1",
        port,
        reuse_port=True,
        subprotocols=[Subprotocol("graphql-transport-ws")],
        compression=None,  # as our server (uvicorn with per-message deflate off)
        ping_interval=20,  # as uvicorn's default
        backlog=4096,
    ):
        relaying = asyncio.create_task(relay(redis_url, channel, subscribed))
        await stop
        relaying.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await relaying


def worker(port: int, redis_url: str, channel: str) -> None:
    import uvloop

    raise_open_files()
    uvloop.run(run(port, redis_url, channel))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--channel", required=True)
    args = parser.parse_args()
    raise_open_files()
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=worker, args=(args.port, args.redis_url, args.channel))
        for _ in range(args.processes)
    ]
    for process in processes:
        process.start()
    # The parent only waits: on SIGTERM it passes the signal on and reaps.
    signal.signal(signal.SIGTERM, lambda *_: None)
    with contextlib.suppress(KeyboardInterrupt):
        signal.pause()
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(timeout=10)


if __name__ == "__main__":
    main()
