"""Redis restarts under a live chat: the subscription survives and loses nothing.

A real server on MariaDB, with its own Redis (persistence on, like production).
While Redis is down the server reports itself not ready and fails requests
quickly; once Redis is back the broker reconnects and subscribes again by
itself, and `messageAdded` replays from the database whatever pub/sub lost,
over the same WebSocket and the same subscription.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportError
from gql.transport.websockets import WebsocketsTransport
from redis.asyncio import Redis

from tests.conftest import ServerFactory
from tests.e2e.helpers_tickets import SEND_MESSAGE, add_admin, create_ticket, fresh_email
from tests.realtime.conftest import private_redis  # noqa: F401  (a fixture: used by name)
from tests.realtime.redis_server import RedisServer
from tests.support.client import GraphQLClient, Result, log_in, sign_up
from tests.support.server import Server
from ticketing.realtime.channels import ticket_messages

MESSAGE_ADDED = """
subscription MessageAdded($ticketId: ID!) {
  messageAdded(ticketId: $ticketId) { id ticketId body author { id } }
}
"""
TRANSPORT_WS = WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL  # graphql-transport-ws

LAST_MESSAGE = 11
SUBSCRIBED_TIMEOUT = 10.0
DELIVERY_TIMEOUT = 10.0
# A request while Redis is down must fail within this, not hang.
FAILING_SEND_TIMEOUT = 8.0
# Each attempt at sending once Redis is back; and all of them together.
SEND_ATTEMPT_TIMEOUT = 8.0
SENDING_DEADLINE = 30.0
RETRY_PAUSE = 0.05
READINESS_TIMEOUT = 15.0
# Long enough for the server's reconnect backoff to grow (0.1 s, doubling), so that
# it is still waiting when the messages go out: pub/sub loses them, replay must not.
REDIS_DOWNTIME = 4.0
# An outage must not show the client what failed inside (contract: errors are masked).
INTERNALS = ("redis", "connection", "refused", "127.0.0.1", "errno", "traceback")
# From Redis being back to the subscriber having every message.
CATCH_UP_TIMEOUT = 20.0
POLL_SECONDS = 0.05
SETTLE_SECONDS = 0.5


def body(number: int) -> str:
    return f"message {number}"


class CountingTransport(WebsocketsTransport):
    """gql's WebSocket transport, counting how often it (re)connects."""

    connects = 0

    async def connect(self) -> None:
        self.connects += 1
        await super().connect()


async def wait_until(check: Callable[[], Awaitable[bool]], within: float) -> bool:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(POLL_SECONDS)
    return True


async def eventually(check: Callable[[], Awaitable[bool]], within: float, what: str) -> None:
    if not await wait_until(check, within):
        pytest.fail(f"not within {within}s: {what}")


async def readyz_status(server: Server) -> int:
    try:
        async with httpx.AsyncClient(timeout=5) as http:
            return (await http.get(f"{server.base_url}/readyz")).status_code
    except httpx.HTTPError:
        return 0


async def send(client: GraphQLClient, ticket_id: str, text: str) -> Result:
    return await client.execute(SEND_MESSAGE, {"input": {"ticketId": ticket_id, "body": text}})


async def send_until_it_succeeds(
    server: Server, client: GraphQLClient, ticket_id: str, text: str
) -> str:
    """Send, retrying on errors (Redis just came back); the id of the stored message."""
    deadline = time.monotonic() + SENDING_DEADLINE
    failures: list[str] = []
    while time.monotonic() < deadline:
        try:
            result = await asyncio.wait_for(send(client, ticket_id, text), SEND_ATTEMPT_TIMEOUT)
        except (TransportError, httpx.HTTPError, TimeoutError) as error:
            failures.append(repr(error))
        else:
            if not result.errors:
                return str(result.ok()["sendMessage"]["id"])
            failures.append(str(result.codes))
        await asyncio.sleep(RETRY_PAUSE)
    pytest.fail(
        f"{text!r} not sent within {SENDING_DEADLINE}s: {failures[-3:]}\n"
        f"server log (end):\n{server.log()[-4000:]}"
    )


async def wait_until_subscribed(redis_url: str, channel: str) -> None:
    """The server listens on the ticket's channel: the subscription has started."""
    redis = Redis.from_url(redis_url, decode_responses=True)
    try:

        async def subscribed() -> bool:
            return int(dict(await redis.pubsub_numsub(channel)).get(channel, 0)) >= 1

        await eventually(subscribed, SUBSCRIBED_TIMEOUT, f"the server subscribes to {channel}")
    finally:
        await redis.aclose()


async def test_a_live_chat_survives_a_redis_restart_without_losing_a_message(
    private_redis: RedisServer,  # noqa: F811  (the fixture imported above)
    make_server: ServerFactory,  # after private_redis: the server stops before Redis does
) -> None:
    # given: a server whose Redis is our own, an admin, a user and the user's ticket
    server = make_server("mariadb", REDIS_URL=private_redis.url)
    admin_email = add_admin(server)
    async with (
        GraphQLClient(server.graphql_url) as user,
        GraphQLClient(server.graphql_url) as admin,
    ):
        await sign_up(user, fresh_email())
        await log_in(admin, admin_email)
        ticket = await create_ticket(user)
        ticket_id = ticket["id"]

        # given: the user subscribed to the ticket's messages over graphql-transport-ws
        transport = CountingTransport(
            url=server.ws_url,
            init_payload={"authorization": f"Bearer {user.token}"},
            subprotocols=[TRANSPORT_WS],
        )
        received: list[dict[str, Any]] = []
        async with Client(transport=transport) as session:

            async def collect() -> None:
                request = GraphQLRequest(MESSAGE_ADDED, variable_values={"ticketId": ticket_id})
                async for result in session.subscribe(request):
                    received.append(result["messageAdded"])

            collector = asyncio.create_task(collect())
            try:
                await wait_until_subscribed(
                    private_redis.url,
                    server.env["REDIS_PREFIX"] + ticket_messages(int(ticket_id)),
                )

                # when: the admin writes message 1 while all is well
                sent_ids = [(await send(admin, ticket_id, body(1))).ok()["sendMessage"]["id"]]

                # then: it arrives live
                async def first_arrived() -> bool:
                    return len(received) >= 1

                await eventually(first_arrived, DELIVERY_TIMEOUT, "message 1 arrives")

                # when: Redis goes away
                await asyncio.to_thread(private_redis.stop)
                stopped_at = time.monotonic()

                # then: the server says it is not ready
                async def not_ready() -> bool:
                    return await readyz_status(server) == 503

                await eventually(not_ready, READINESS_TIMEOUT, "/readyz answers 503")

                # and a message cannot be sent: an error, quickly, not a hang
                refused = await asyncio.wait_for(
                    send(admin, ticket_id, "sent while Redis is down"), FAILING_SEND_TIMEOUT
                )
                assert refused.codes == ["INTERNAL_SERVER_ERROR"], refused
                assert refused.data is None or refused.data.get("sendMessage") is None, refused
                shown = refused.errors[0]["message"].lower()
                assert not [word for word in INTERNALS if word in shown], shown
                await asyncio.sleep(max(REDIS_DOWNTIME - (time.monotonic() - stopped_at), 0.0))

                # when: Redis is back, and the admin writes 2..11 as fast as it can
                await asyncio.to_thread(private_redis.start)
                back_at = time.monotonic()
                for number in range(2, LAST_MESSAGE + 1):
                    sent_ids.append(
                        await send_until_it_succeeds(server, admin, ticket_id, body(number))
                    )

                # then: the server is ready again
                async def ready() -> bool:
                    return await readyz_status(server) == 200

                await eventually(ready, READINESS_TIMEOUT, "/readyz answers 200 again")

                # and the subscriber has every message, once each, in order
                async def all_arrived() -> bool:
                    return len(received) >= LAST_MESSAGE or collector.done()

                # (on time-out the assertions below show what did arrive)
                remaining = CATCH_UP_TIMEOUT - (time.monotonic() - back_at)
                await wait_until(all_arrived, max(remaining, 0.0))
                await asyncio.sleep(SETTLE_SECONDS)  # so that a late repeat shows up too
            finally:
                still_subscribed = not collector.done()
                collector.cancel()
                outcome = await asyncio.gather(collector, return_exceptions=True)

    assert still_subscribed, f"the subscription ended: {outcome}\n{server.log()[-3000:]}"
    assert transport.connects == 1, "the client had to reconnect"
    assert [message["body"] for message in received] == [
        body(number) for number in range(1, LAST_MESSAGE + 1)
    ], server.log()[-3000:]
    ids = [int(message["id"]) for message in received]
    assert ids == sorted(set(ids)), ids
    assert [message["id"] for message in received] == sent_ids
    assert {message["ticketId"] for message in received} == {ticket_id}
