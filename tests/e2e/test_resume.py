"""`messageAdded(after:)`: replay what is stored, then go on live, with no gap and no repeat."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.conftest import ServerFactory
from tests.e2e.helpers_live import both_protocols, subscribed
from tests.e2e.helpers_tickets import SEND_MESSAGE, create_ticket, signed_up
from tests.support.client import GraphQLClient
from tests.support.server import Server

MESSAGE_ADDED = """
subscription MessageAdded($ticketId: ID!, $after: ID) {
  messageAdded(ticketId: $ticketId, after: $after) { id ticketId body author { id } }
}
"""
UNDER_LOAD = 100  # messages the sender sends while the subscriber joins
JOIN_AFTER = 30  # the subscriber joins once this many are sent


async def send(client: GraphQLClient, ticket_id: str, body: str) -> dict[str, Any]:
    variables = {"input": {"ticketId": ticket_id, "body": body}}
    message: dict[str, Any] = (await client.execute(SEND_MESSAGE, variables)).ok()["sendMessage"]
    return message


def ids(results: list[dict[str, Any]]) -> list[int]:
    return [int(result["messageAdded"]["id"]) for result in results]


@both_protocols
async def test_after_replays_the_stored_messages_in_order_then_goes_live(
    server: Server, user_client: GraphQLClient, protocol: str
) -> None:
    # given: a ticket with five messages
    ticket_id = (await create_ticket(user_client))["id"]
    stored = [await send(user_client, ticket_id, f"stored {n}") for n in range(5)]
    watch = {"ticketId": ticket_id, "after": stored[1]["id"]}
    async with subscribed(
        server, user_client.token, MESSAGE_ADDED, watch, protocol=protocol
    ) as sub:
        # then: the three after the second come first, oldest first
        replayed = await sub.wait_for(3)
        # when: a new message is sent
        live = await send(user_client, ticket_id, "live")
        # then: it follows, once
        everything = await sub.wait_for(4)
        await sub.quiet_for(0.3)

    assert [r["messageAdded"]["body"] for r in replayed] == ["stored 2", "stored 3", "stored 4"]
    assert ids(everything) == [int(m["id"]) for m in [*stored[2:], live]]
    assert everything[0]["messageAdded"]["ticketId"] == ticket_id


@both_protocols
async def test_a_client_reconnecting_with_the_last_id_it_saw_misses_nothing(
    server: Server, user_client: GraphQLClient, protocol: str
) -> None:
    ticket_id = (await create_ticket(user_client))["id"]
    watch: dict[str, Any] = {"ticketId": ticket_id}
    # given: a client that saw two messages live, then lost its connection
    async with subscribed(
        server, user_client.token, MESSAGE_ADDED, watch, protocol=protocol
    ) as sub:
        seen = [await send(user_client, ticket_id, f"seen {n}") for n in range(2)]
        first_time = await sub.wait_for(2)
    missed = [await send(user_client, ticket_id, f"missed {n}") for n in range(3)]

    # when: it reconnects with the last id it saw
    watch["after"] = first_time[-1]["messageAdded"]["id"]
    async with subscribed(
        server, user_client.token, MESSAGE_ADDED, watch, protocol=protocol
    ) as sub:
        caught_up = await sub.wait_for(3)
        live = await send(user_client, ticket_id, "live again")
        second_time = await sub.wait_for(4)
        await sub.quiet_for(0.3)

    # then: everything, each once, in order
    assert ids(first_time) == [int(m["id"]) for m in seen]
    assert ids(caught_up) == [int(m["id"]) for m in missed]
    assert ids(second_time) == [int(m["id"]) for m in [*missed, live]]


async def join_while_sending(
    sender_server: Server, subscriber_server: Server, protocol: str
) -> None:
    """A sender sends UNDER_LOAD messages as fast as it can; a subscriber joins midway."""
    async with signed_up(sender_server) as owner:
        ticket_id = (await create_ticket(owner))["id"]
        sent: list[int] = []
        enough = asyncio.Event()

        async def sender() -> None:
            for n in range(UNDER_LOAD):
                sent.append(int((await send(owner, ticket_id, f"burst {n}"))["id"]))
                if len(sent) == JOIN_AFTER:
                    enough.set()

        sending = asyncio.create_task(sender())
        try:
            await asyncio.wait_for(enough.wait(), 60)
            # when: the subscriber joins on `after` = an id from the middle of what is sent so far
            after = sent[len(sent) // 2]
            watch = {"ticketId": ticket_id, "after": str(after)}
            async with subscribed(
                subscriber_server, owner.token, MESSAGE_ADDED, watch, protocol=protocol
            ) as sub:
                assert not sending.done(), "the sender finished before the subscriber joined"
                await asyncio.wait_for(sending, 60)
                expected = [message_id for message_id in sent if message_id > after]
                await sub.wait_for(len(expected), within=10)
                await sub.quiet_for(0.5)
        finally:
            sending.cancel()

    # then: every message after `after`, exactly once, in increasing id order
    assert len(sent) == UNDER_LOAD
    assert sorted(sent) == sent
    received = ids(sub.results)
    assert received == expected, (
        f"missing {sorted(set(expected) - set(received))}, "
        f"duplicates {sorted({i for i in received if received.count(i) > 1})}"
    )


@both_protocols
async def test_joining_midway_through_a_burst_loses_and_repeats_nothing(
    server: Server, protocol: str
) -> None:
    await join_while_sending(server, server, protocol)


@both_protocols
async def test_joining_midway_on_another_instance_loses_and_repeats_nothing(
    make_server: ServerFactory, protocol: str
) -> None:
    # given: two instances on one database and one Redis; sender on A, subscriber on B
    instance_a, instance_b = make_server.cluster(2)
    await join_while_sending(instance_a, instance_b, protocol)
