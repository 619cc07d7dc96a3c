"""Reference (b), the naive path: strawberry executes the subscription per subscriber.

The subscription just waits for the next message from Redis and yields it;
strawberry then resolves, serializes and sends it once for every subscriber.
This is the straightforward way to write the feature, without anything our
server adds (authorization at subscribe and per event, sessions, resume).

One Redis pub/sub connection per process feeds a queue per subscriber, rather
than a pub/sub connection per subscriber: at 10,000 subscribers that would
hit Redis's default `maxclients` (10,000) on a Redis others use too, and would
measure Redis's connection handling rather than GraphQL execution.

The sender publishes a JSON row with the fields the clients select, so the
frames have the same size as our server's. Served like ours, by uvicorn:

    BENCH_REDIS_URL=redis://127.0.0.1:6379/0 BENCH_CHANNEL=bench:x:naive \
    python -m uvicorn reference_naive:create_app --factory --app-dir bench --workers 2 \
        --loop uvloop --http httptools --ws websockets-sansio --ws-per-message-deflate false
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager

import strawberry
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

# This process's subscribers, each with its queue of raw messages.
queues: set[asyncio.Queue[bytes]] = set()


async def feed(redis_url: str, channel: str) -> None:
    redis = Redis.from_url(redis_url)
    pubsub = redis.pubsub()
    await pubsub.subscribe(channel)
    try:
        async for message in pubsub.listen():
            if message["type"] == "message":
                for queue in queues:
                    queue.put_nowait(message["data"])
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]
        await redis.aclose()


@strawberry.type
class Author:
    id: strawberry.ID
    display_name: str


@strawberry.type
class Message:
    id: strawberry.ID
    ticket_id: strawberry.ID
    body: str
    created_at: str
    author: Author


@strawberry.type
class Query:
    @strawberry.field
    def ok(self) -> bool:
        return True


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def message_added(self, ticket_id: strawberry.ID) -> AsyncGenerator[Message, None]:
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        queues.add(queue)
        try:
            while True:
                row = json.loads(await queue.get())
                yield Message(
                    id=row["id"],
                    ticket_id=row["ticketId"],
                    body=row["body"],
                    created_at=row["createdAt"],
                    author=Author(
                        id=row["author"]["id"], display_name=row["author"]["displayName"]
                    ),
                )
        finally:
            queues.discard(queue)


async def healthz(_: Request) -> PlainTextResponse:
    # The pid: the benchmark waits until it has heard from every worker.
    return PlainTextResponse(str(os.getpid()))


def create_app() -> Starlette:
    schema = strawberry.Schema(query=Query, subscription=Subscription)
    view = GraphQL(
        schema, graphql_ide=None, subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,)
    )

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(feed(os.environ["BENCH_REDIS_URL"], os.environ["BENCH_CHANNEL"]))
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return Starlette(
        routes=[
            Route("/graphql", view, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", view),
            Route("/healthz", healthz),
        ],
        lifespan=lifespan,
    )
