"""Several instances share Redis: an event caused on instance A reaches a subscriber on B.

Two server processes on one MariaDB database and one Redis, for the whole module.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest

from tests.conftest import ServerFactory
from tests.e2e.helpers_live import both_protocols, fresh_token, percentile, subscribed
from tests.e2e.helpers_tickets import (
    SEND_MESSAGE,
    add_admin,
    configure,
    create_ticket,
    logged_in,
    my_id,
    set_status,
    signed_up,
)
from tests.support.client import GraphQLClient
from tests.support.server import Server

TICKET_CREATED = "subscription { ticketCreated { id title owner { id } } }"
STATUS_CHANGED = """
subscription { ticketStatusChanged { previousStatus status changedBy { id } ticket { id } } }
"""
MESSAGE_ADDED = """
subscription MessageAdded($ticketId: ID!) { messageAdded(ticketId: $ticketId) { id body } }
"""
CONFIGURATION_UPDATED = "subscription { configurationUpdated { version maxOpenTicketsPerUser } }"
LOG_ADDED = "subscription { logAdded(minLevel: INFO) { event ticketId actor { id } } }"
_limits = itertools.count(500)
LATENCY_MESSAGES = 50
LATENCY_BOUND_SECONDS = 2.0


@pytest.fixture(scope="module")
def cluster(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Server, str]]:
    """Instances A and B, and the email of an admin."""
    factory = ServerFactory(request, tmp_path_factory)
    instance_a, instance_b = factory.cluster(2)
    yield instance_a, instance_b, add_admin(instance_a)
    factory.stop_all()


@dataclass
class OnA:
    """Instance A with a signed-in admin and a signed-up user; B to subscribe on."""

    a: Server
    b: Server
    admin_email: str
    admin: GraphQLClient
    user: GraphQLClient


@pytest.fixture
async def env(cluster: tuple[Server, Server, str]) -> AsyncIterator[OnA]:
    instance_a, instance_b, admin_email = cluster
    async with logged_in(instance_a, admin_email) as admin, signed_up(instance_a) as user:
        yield OnA(instance_a, instance_b, admin_email, admin, user)


async def on_b(env: OnA) -> str:
    """An access token of a new admin session, made on instance B."""
    return await fresh_token(env.b, env.admin_email)


@both_protocols
async def test_a_ticket_created_on_a_reaches_an_admin_on_b(env: OnA, protocol: str) -> None:
    async with subscribed(env.b, await on_b(env), TICKET_CREATED, protocol=protocol) as sub:
        # when: a ticket is created through instance A; then the admin on B hears of it
        ticket = await create_ticket(env.user, "Made on A")
        heard = await sub.wait_for(1)

    owner = {"id": ticket["owner"]["id"]}
    assert heard == [{"ticketCreated": {"id": ticket["id"], "title": "Made on A", "owner": owner}}]


@both_protocols
async def test_a_status_change_on_a_reaches_an_admin_on_b(env: OnA, protocol: str) -> None:
    ticket_id = (await create_ticket(env.user))["id"]
    async with subscribed(env.b, await on_b(env), STATUS_CHANGED, protocol=protocol) as sub:
        # when: the admin on A resolves it
        (await set_status(env.admin, ticket_id, "RESOLVED")).ok()
        heard = await sub.wait_for(1)

    change = {"previousStatus": "OPEN", "status": "RESOLVED", "ticket": {"id": ticket_id}}
    assert heard == [
        {"ticketStatusChanged": {**change, "changedBy": {"id": await my_id(env.admin)}}}
    ]


@both_protocols
async def test_a_message_sent_on_a_reaches_the_owner_and_an_admin_on_b(
    env: OnA, protocol: str
) -> None:
    ticket_id = (await create_ticket(env.user))["id"]
    watch = {"ticketId": ticket_id}
    owner_token = env.user.token
    as_owner = subscribed(env.b, owner_token, MESSAGE_ADDED, watch, protocol=protocol)
    as_admin = subscribed(env.b, await on_b(env), MESSAGE_ADDED, watch, protocol=protocol)
    async with as_owner as owner_sub, as_admin as admin_sub:
        # when: the owner writes through A; then the owner and the admin hear it on B
        sent = await send(env.user, ticket_id, "sent on A")
        heard = [await owner_sub.wait_for(1), await admin_sub.wait_for(1)]

    assert heard == [[{"messageAdded": {"id": sent, "body": "sent on A"}}]] * 2


@both_protocols
async def test_a_configuration_update_on_a_reaches_a_user_on_b(env: OnA, protocol: str) -> None:
    user_token = env.user.token
    async with subscribed(env.b, user_token, CONFIGURATION_UPDATED, protocol=protocol) as sub:
        # when: the admin on A changes the configuration
        limit = next(_limits)  # a value no earlier update set
        updated = await configure(env.admin, maxOpenTicketsPerUser=limit)
        heard = await sub.wait_for(1)

    body = {"version": updated["version"], "maxOpenTicketsPerUser": limit}
    assert heard == [{"configurationUpdated": body}]


@both_protocols
async def test_a_log_entry_made_on_a_reaches_an_admin_on_b(env: OnA, protocol: str) -> None:
    async with subscribed(env.b, await on_b(env), LOG_ADDED, protocol=protocol) as sub:
        # when: a ticket is created through A, which writes an INFO entry
        ticket = await create_ticket(env.user)
        created = {"event": "ticket.created", "ticketId": ticket["id"]}
        heard = await sub.wait_until(
            lambda seen: any(created.items() <= r["logAdded"].items() for r in seen)
        )

    entry = next(r["logAdded"] for r in heard if r["logAdded"]["event"] == "ticket.created")
    assert entry == {**created, "actor": {"id": ticket["owner"]["id"]}}


@both_protocols
async def test_delivery_latency_from_a_to_b(env: OnA, protocol: str) -> None:
    # given: the owner subscribed on B
    ticket_id = (await create_ticket(env.user))["id"]
    watch = {"ticketId": ticket_id}
    sent_at: dict[str, float] = {}
    async with subscribed(env.b, env.user.token, MESSAGE_ADDED, watch, protocol=protocol) as sub:
        # when: 50 messages are sent on A, one after another
        for n in range(LATENCY_MESSAGES):
            before = time.perf_counter()
            sent_at[await send(env.user, ticket_id, f"ping {n}")] = before
        await sub.wait_for(LATENCY_MESSAGES, within=10)

    # then: each arrived once, in order; latency = receipt on B - just before the mutation on A
    received = [r["messageAdded"]["id"] for r in sub.results]
    assert received == list(sent_at)
    latencies = [
        arrived - sent_at[message_id]
        for message_id, arrived in zip(received, sub.received_at, strict=True)
    ]
    p50, p99, worst = (percentile(latencies, q) for q in (0.5, 0.99, 1.0))
    print(
        f"\nA->B messageAdded latency over {protocol}, {LATENCY_MESSAGES} messages: "
        f"p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, max {worst * 1000:.1f} ms"
    )
    assert worst < LATENCY_BOUND_SECONDS


async def send(client: GraphQLClient, ticket_id: str, body: str) -> str:
    variables = {"input": {"ticketId": ticket_id, "body": body}}
    return str((await client.execute(SEND_MESSAGE, variables)).ok()["sendMessage"]["id"])
