"""The contract: "When a session is logged out or revoked, its open subscriptions end."

What the implementation does: the subscription's stream ends with one result
carrying an UNAUTHENTICATED error, then `complete`; the socket stays open.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from tests.conftest import ServerFactory
from tests.e2e.helpers_live import (
    LiveSubscription,
    both_protocols,
    data_type,
    init_frame,
    raw_socket,
    receive_frame,
    send_frame,
    start_frame,
    subscribed,
)
from tests.e2e.helpers_tickets import SEND_MESSAGE, create_ticket, fresh_email
from tests.support.client import GraphQLClient, log_in, sign_up
from tests.support.server import Server

MESSAGE_ADDED = """
subscription MessageAdded($ticketId: ID!) { messageAdded(ticketId: $ticketId) { id body } }
"""
MESSAGE_ADDED_AFTER = """
subscription MessageAdded($ticketId: ID!, $after: ID) {
  messageAdded(ticketId: $ticketId, after: $after) { id body }
}
"""
LOG_OUT = "mutation { logOut }"
REFRESH = "mutation { refreshToken { accessToken } }"
ENDS_WITHIN_SECONDS = 1.0


async def send(client: GraphQLClient, ticket_id: str, body: str) -> str:
    variables = {"input": {"ticketId": ticket_id, "body": body}}
    return str((await client.execute(SEND_MESSAGE, variables)).ok()["sendMessage"]["id"])


async def assert_ended_by_revocation(sub: LiveSubscription, since: float) -> None:
    await sub.wait_ended(within=ENDS_WITHIN_SECONDS + 2)
    assert sub.ended_at is not None
    assert sub.ended_at - since < ENDS_WITHIN_SECONDS, f"ended after {sub.ended_at - since:.2f}s"
    assert (sub.codes, sub.results, sub.failure) == (["UNAUTHENTICATED"], [], None)


async def log_out_ends_only_that_session(
    at: Server, subscriber_server: Server, protocol: str
) -> None:
    """Two sessions of one user subscribe on `subscriber_server`; the first logs out on `at`."""
    email = fresh_email()
    async with GraphQLClient(at.graphql_url) as first, GraphQLClient(at.graphql_url) as second:
        await sign_up(first, email)
        await log_in(second, email)
        ticket_id = (await create_ticket(first))["id"]
        watch = {"ticketId": ticket_id}
        ending = subscribed(subscriber_server, first.token, MESSAGE_ADDED, watch, protocol=protocol)
        staying = subscribed(
            subscriber_server, second.token, MESSAGE_ADDED, watch, protocol=protocol
        )
        async with ending as first_sub, staying as second_sub:
            # when: the first session logs out (its access token and its cookie)
            before = time.perf_counter()
            assert (await first.execute(LOG_OUT)).ok() == {"logOut": True}
            # then: its subscription ends at once
            await assert_ended_by_revocation(first_sub, before)
            # and the other session of the same user keeps receiving
            message_id = await send(second, ticket_id, "still here")
            heard = await second_sub.wait_for(1)

    assert heard == [{"messageAdded": {"id": message_id, "body": "still here"}}]
    assert first_sub.results == []


@both_protocols
async def test_logging_out_ends_that_sessions_subscriptions_and_no_other(
    server: Server, protocol: str
) -> None:
    await log_out_ends_only_that_session(server, server, protocol)


@both_protocols
async def test_logging_out_on_one_instance_ends_the_subscriptions_on_another(
    make_server: ServerFactory, protocol: str
) -> None:
    instance_a, instance_b = make_server.cluster(2)
    await log_out_ends_only_that_session(instance_a, instance_b, protocol)


@both_protocols
async def test_reusing_a_rotated_refresh_token_ends_the_sessions_subscriptions(
    server: Server, protocol: str
) -> None:
    email = fresh_email()
    async with (
        GraphQLClient(server.graphql_url) as owner,
        GraphQLClient(server.graphql_url) as other,
        GraphQLClient(server.graphql_url) as thief,
    ):
        await sign_up(owner, email)
        await log_in(other, email)
        ticket_id = (await create_ticket(owner))["id"]
        watch = {"ticketId": ticket_id}
        stolen = owner.cookies["refresh_token"]
        ending = subscribed(server, owner.token, MESSAGE_ADDED, watch, protocol=protocol)
        staying = subscribed(server, other.token, MESSAGE_ADDED, watch, protocol=protocol)
        async with ending as owner_sub, staying as other_sub:
            # given: the owner rotated the refresh token twice (a token rotated only once
            # would still yield its successor within the grace period); the session and
            # its subscription live on
            (await owner.execute(REFRESH)).ok()
            (await owner.execute(REFRESH)).ok()
            first_id = await send(other, ticket_id, "after rotation")
            assert await owner_sub.wait_for(1) == [
                {"messageAdded": {"id": first_id, "body": "after rotation"}}
            ]
            # when: the rotated-away token is presented again
            thief.cookies.set("refresh_token", stolen, path="/graphql")
            before = time.perf_counter()
            replay = await thief.execute(REFRESH)
            # then: the whole session is revoked, and its subscription ends
            await owner_sub.wait_ended(within=ENDS_WITHIN_SECONDS + 2)
            second_id = await send(other, ticket_id, "after revocation")
            heard = await other_sub.wait_for(2)

    assert replay.codes == ["UNAUTHENTICATED"]
    assert owner_sub.ended_at is not None
    assert owner_sub.ended_at - before < ENDS_WITHIN_SECONDS
    assert (owner_sub.codes, len(owner_sub.results)) == (["UNAUTHENTICATED"], 1)
    assert [r["messageAdded"]["id"] for r in heard] == [first_id, second_id]


async def _logged_out_socket(server: Server, protocol: str, after_log_out: str | None) -> list[Any]:
    """Raw frames: subscribe as session 1, log it out, maybe subscribe again on the same
    socket, then let session 2 send a message; returns the frames that followed the log-out."""
    email = fresh_email()
    async with (
        GraphQLClient(server.graphql_url) as first,
        GraphQLClient(server.graphql_url) as second,
        raw_socket(server, protocol) as socket,
    ):
        await sign_up(first, email)
        await log_in(second, email)
        ticket_id = (await create_ticket(first))["id"]
        await send_frame(socket, init_frame(first.token))
        assert (await receive_frame(socket))["type"] == "connection_ack"
        # with `after`, the first message arrives (replayed or live) once it listens
        watch = {"ticketId": ticket_id, "after": await send(second, ticket_id, "first")}
        await send_frame(socket, start_frame(protocol, "1", MESSAGE_ADDED_AFTER, watch))
        await send(second, ticket_id, "before")
        assert (await receive_frame(socket))["payload"]["data"]["messageAdded"]["body"] == "before"
        (await first.execute(LOG_OUT)).ok()
        frames = [await receive_frame(socket), await receive_frame(socket)]
        if after_log_out is not None:
            watch["after"] = None
            await send_frame(
                socket, start_frame(protocol, after_log_out, MESSAGE_ADDED_AFTER, watch)
            )
            with contextlib.suppress(TimeoutError):  # a refusal comes at once, if at all
                frames.append(await receive_frame(socket, within=2))
        await send(second, ticket_id, "after")
        with contextlib.suppress(TimeoutError):
            frames.append(await receive_frame(socket, within=0.5))
    return frames


@both_protocols
async def test_after_log_out_the_socket_delivers_nothing_more_for_the_subscription(
    server: Server, protocol: str
) -> None:
    frames = await _logged_out_socket(server, protocol, after_log_out=None)

    error, complete = frames[:2]
    assert (error["id"], error["type"]) == ("1", data_type(protocol))
    assert error["payload"]["data"] is None
    assert codes_of(error) == ["UNAUTHENTICATED"]
    assert complete == {"id": "1", "type": "complete"}
    assert frames[2:] == []  # the message sent after the log-out is not delivered


@both_protocols
async def test_a_subscription_started_on_the_socket_after_log_out_is_refused(
    server: Server, protocol: str
) -> None:
    # "Every authenticated request checks that the session still exists, so logOut
    # takes effect at once" (contract); the socket's connection_init token is now dead.
    frames = await _logged_out_socket(server, protocol, after_log_out="2")

    # then: subscription 2 is refused with UNAUTHENTICATED, and nothing is delivered
    after_log_out = frames[2:]
    delivered = [
        f for f in after_log_out if isinstance(f.get("payload"), dict) and f["payload"].get("data")
    ]
    assert delivered == [], f"a logged-out session received: {delivered}"
    refusals = [codes_of(f) for f in after_log_out if f["id"] == "2" and codes_of(f)]
    assert refusals[:1] == [["UNAUTHENTICATED"]], after_log_out


def codes_of(frame: dict[str, Any]) -> list[str]:
    """The error codes a frame carries: `next`/`data` with errors, or `error` (list or one)."""
    payload = frame.get("payload")
    if isinstance(payload, dict):
        payload = payload.get("errors", [payload] if frame["type"] == "error" else [])
    return [error.get("extensions", {}).get("code") for error in payload or []]
