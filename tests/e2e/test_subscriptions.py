"""The contract's "Subscriptions": who hears what, on both WebSocket sub-protocols."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

from tests.conftest import ADMIN_EMAILS, BACKENDS, ServerFactory
from tests.e2e.helpers_live import both_protocols, fresh_token, subscribed
from tests.e2e.helpers_tickets import (
    SEND_MESSAGE,
    add_admin,
    configure,
    create_ticket,
    fresh_email,
    my_id,
    set_status,
    signed_up,
    token,
)
from tests.support.client import LOG_IN, PASSWORD, GraphQLClient, log_in, sign_up
from tests.support.server import Server

TICKET_CREATED = "subscription { ticketCreated { id title status owner { id displayName email } } }"
STATUS_CHANGED = """
subscription StatusChanged($ticketId: ID) {
  ticketStatusChanged(ticketId: $ticketId) {
    previousStatus status changedAt changedBy { id } ticket { id status }
  }
}
"""
MESSAGE_ADDED = """
subscription MessageAdded($ticketId: ID!) {
  messageAdded(ticketId: $ticketId) { id ticketId body author { id displayName } }
}
"""
CONFIGURATION_UPDATED = """
subscription { configurationUpdated { version maxMessageLength updatedBy { id email } } }
"""
LOG_ADDED = """
subscription LogAdded($minLevel: LogLevel) {
  logAdded(minLevel: $minLevel) { id level event message ticketId actor { id } }
}
"""
ME = "query { me { id displayName } }"


def change(ticket_id: str, before: str, after: str, by: str) -> dict[str, Any]:
    return {
        "previousStatus": before,
        "status": after,
        "changedBy": {"id": by},
        "ticket": {"id": ticket_id, "status": after},
    }


def without_time(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The status changes without `changedAt`, which must be an ISO date-time with offset."""
    stripped = []
    for event in events:
        body = dict(event["ticketStatusChanged"])
        assert datetime.fromisoformat(body.pop("changedAt")).tzinfo is not None
        stripped.append(body)
    return stripped


@both_protocols
async def test_an_admin_receives_every_new_ticket_with_its_owner(
    server: Server,
    admin_client: GraphQLClient,
    user_client: GraphQLClient,
    unique_email: str,
    protocol: str,
) -> None:
    owner_id = await my_id(user_client)
    async with subscribed(server, admin_client.token, TICKET_CREATED, protocol=protocol) as sub:
        # when: a user opens two tickets
        first = await create_ticket(user_client, "First")
        second = await create_ticket(user_client, "Second")
        # then: the admin hears of both, in order, with the owner filled in
        events = await sub.wait_for(2)

    owner = {"id": owner_id, "displayName": "Test User", "email": unique_email.lower()}
    assert events == [
        {"ticketCreated": {"id": t["id"], "title": t["title"], "status": "OPEN", "owner": owner}}
        for t in (first, second)
    ]


@both_protocols
async def test_new_tickets_and_log_entries_are_for_admins_only(
    server: Server, user_client: GraphQLClient, protocol: str
) -> None:
    for document in (TICKET_CREATED, LOG_ADDED):
        async with subscribed(server, user_client.token, document, protocol=protocol) as sub:
            await create_ticket(user_client)  # an event both would carry
            await sub.wait_ended()

        assert (sub.codes, sub.results) == (["FORBIDDEN"], []), document


@both_protocols
async def test_every_subscription_needs_a_signed_in_user(
    server: Server, user_client: GraphQLClient, protocol: str
) -> None:
    # given: a socket whose connection_init carries no authorization
    ticket_id = (await create_ticket(user_client))["id"]
    documents = [
        (TICKET_CREATED, None),
        (STATUS_CHANGED, None),
        (MESSAGE_ADDED, {"ticketId": ticket_id}),
        (CONFIGURATION_UPDATED, None),
        (LOG_ADDED, {"minLevel": "DEBUG"}),
    ]
    for document, variables in documents:
        async with subscribed(server, None, document, variables, protocol=protocol) as sub:
            await sub.wait_ended()
        assert (sub.codes, sub.results, sub.failure) == (["UNAUTHENTICATED"], [], None), document


@both_protocols
async def test_an_admin_hears_every_status_change_or_one_tickets(
    server: Server, admin_client: GraphQLClient, user_client: GraphQLClient, protocol: str
) -> None:
    # given: two tickets; one admin session listens to all, another to the one
    admin_id, user_id = await my_id(admin_client), await my_id(user_client)
    one, other = (await create_ticket(user_client))["id"], (await create_ticket(user_client))["id"]
    second_session = await fresh_token(server, ADMIN_EMAILS[0])  # one session per subscriber
    every = subscribed(server, admin_client.token, STATUS_CHANGED, protocol=protocol)
    only_one = subscribed(
        server, second_session, STATUS_CHANGED, {"ticketId": one}, protocol=protocol
    )
    async with every as all_sub, only_one as one_sub:
        # when: the other ticket changes first, then the one
        (await set_status(admin_client, other, "IN_PROGRESS")).ok()
        (await set_status(user_client, other, "CLOSED")).ok()
        (await set_status(admin_client, one, "ON_HOLD")).ok()
        everything = await all_sub.wait_for(3)
        just_one = await one_sub.wait_for(1)
        await one_sub.quiet_for(0.3)

    assert without_time(everything) == [
        change(other, "OPEN", "IN_PROGRESS", admin_id),
        change(other, "IN_PROGRESS", "CLOSED", user_id),
        change(one, "OPEN", "ON_HOLD", admin_id),
    ]
    assert without_time(just_one) == [change(one, "OPEN", "ON_HOLD", admin_id)]


@both_protocols
async def test_a_user_hears_only_of_their_own_tickets(
    server: Server, admin_client: GraphQLClient, protocol: str
) -> None:
    # given: two users, each with a ticket, each listening without ticketId
    admin_id = await my_id(admin_client)
    async with signed_up(server) as alice, signed_up(server) as bob:
        alices, bobs = (await create_ticket(alice))["id"], (await create_ticket(bob))["id"]
        listen_a = subscribed(server, alice.token, STATUS_CHANGED, protocol=protocol)
        listen_b = subscribed(server, bob.token, STATUS_CHANGED, protocol=protocol)
        async with listen_a as alice_sub, listen_b as bob_sub:
            # when: both tickets change, interleaved
            for status in ("IN_PROGRESS", "ON_HOLD"):
                (await set_status(admin_client, alices, status)).ok()
                (await set_status(admin_client, bobs, status)).ok()
            # then: each hears exactly the two changes of their own ticket
            alice_heard, bob_heard = await alice_sub.wait_for(2), await bob_sub.wait_for(2)
            await alice_sub.quiet_for(0.2)
            await bob_sub.quiet_for(0.2)

    for ticket_id, heard in ((alices, alice_heard), (bobs, bob_heard)):
        assert without_time(heard) == [
            change(ticket_id, "OPEN", "IN_PROGRESS", admin_id),
            change(ticket_id, "IN_PROGRESS", "ON_HOLD", admin_id),
        ]


@both_protocols
async def test_a_user_cannot_watch_another_users_ticket(
    server: Server, user_client: GraphQLClient, protocol: str
) -> None:
    # given: another user's ticket
    ticket_id = (await create_ticket(user_client))["id"]
    async with signed_up(server) as stranger:
        watch = {"ticketId": ticket_id}
        for document in (STATUS_CHANGED, MESSAGE_ADDED):
            async with subscribed(
                server, stranger.token, document, watch, protocol=protocol
            ) as sub:
                await sub.wait_ended()
            assert (sub.codes, sub.results) == (["NOT_FOUND"], []), document


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_ticket_missing_a_moment_ago_can_be_watched_once_it_exists(
    make_server: ServerFactory, backend: str
) -> None:
    # Subscriptions share a recent read of a ticket's owner (tickets/service.py);
    # that a ticket was missing is never shared.
    server = make_server(backend)
    async with signed_up(server) as owner:
        first = int((await create_ticket(owner))["id"])
        early = {"ticketId": str(first + 1)}
        async with subscribed(server, owner.token, MESSAGE_ADDED, early) as missing:
            await missing.wait_ended()
        second = (await create_ticket(owner))["id"]
        assert second == str(first + 1)  # a server of its own: nobody else creates one
        async with subscribed(server, owner.token, MESSAGE_ADDED, early) as sub:
            sent = await owner.execute(SEND_MESSAGE, {"input": {"ticketId": second, "body": "hi"}})
            heard = await sub.wait_for(1)

    assert missing.codes == ["NOT_FOUND"]
    assert [event["messageAdded"]["id"] for event in heard] == [sent.ok()["sendMessage"]["id"]]


@both_protocols
async def test_owner_and_admin_both_receive_every_message_their_own_included(
    server: Server, admin_client: GraphQLClient, user_client: GraphQLClient, protocol: str
) -> None:
    ticket_id = (await create_ticket(user_client))["id"]
    user_me = (await user_client.execute(ME)).ok()["me"]
    admin_me = (await admin_client.execute(ME)).ok()["me"]
    watch = {"ticketId": ticket_id}
    as_owner = subscribed(server, user_client.token, MESSAGE_ADDED, watch, protocol=protocol)
    as_admin = subscribed(server, admin_client.token, MESSAGE_ADDED, watch, protocol=protocol)
    async with as_owner as owner_sub, as_admin as admin_sub:
        # when: the owner writes, then the admin answers
        sent = []
        for client, body in ((user_client, "Hello?"), (admin_client, "Hi, how can I help?")):
            variables = {"input": {"ticketId": ticket_id, "body": body}}
            sent.append((await client.execute(SEND_MESSAGE, variables)).ok()["sendMessage"])
        owner_heard, admin_heard = await owner_sub.wait_for(2), await admin_sub.wait_for(2)

    expected = [
        {"messageAdded": {"id": m["id"], "ticketId": ticket_id, "body": m["body"], "author": a}}
        for m, a in zip(sent, (user_me, admin_me), strict=True)
    ]
    assert owner_heard == expected
    assert admin_heard == expected
    assert user_me["displayName"] == "Test User"


@pytest.mark.parametrize("backend", BACKENDS)
@both_protocols
async def test_every_signed_in_user_hears_of_a_configuration_update(
    make_server: ServerFactory, backend: str, protocol: str
) -> None:
    # given: a server of our own (its configuration changes), an admin and a user
    own = make_server(backend)
    admin_email = add_admin(own)
    async with GraphQLClient(own.graphql_url) as admin, signed_up(own) as user:
        admin_id = (await log_in(admin, admin_email))["user"]["id"]
        as_user = subscribed(own, user.token, CONFIGURATION_UPDATED, protocol=protocol)
        as_admin = subscribed(own, admin.token, CONFIGURATION_UPDATED, protocol=protocol)
        async with as_user as user_sub, as_admin as admin_sub:
            # when: the admin changes the configuration
            updated = await configure(admin, maxMessageLength=1234)
            user_heard, admin_heard = await user_sub.wait_for(1), await admin_sub.wait_for(1)

    assert updated["version"] >= 2
    body = {"version": updated["version"], "maxMessageLength": 1234}
    # the email of the admin is shown to admins only
    assert user_heard == [
        {"configurationUpdated": {**body, "updatedBy": {"id": admin_id, "email": None}}}
    ]
    assert admin_heard == [
        {"configurationUpdated": {**body, "updatedBy": {"id": admin_id, "email": admin_email}}}
    ]


def events_of(results: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    return [(r["logAdded"]["event"], r["logAdded"]["ticketId"]) for r in results]


@both_protocols
async def test_log_entries_arrive_at_or_above_the_minimum_level_without_bodies(
    server: Server, admin_client: GraphQLClient, user_client: GraphQLClient, protocol: str
) -> None:
    # given: two admin sessions, one listening at DEBUG, one at INFO
    ticket_id = (await create_ticket(user_client))["id"]
    body = f"secret body {token()}"
    debug_token = await fresh_token(server, ADMIN_EMAILS[0])
    at_debug = subscribed(server, debug_token, LOG_ADDED, {"minLevel": "DEBUG"}, protocol=protocol)
    at_info = subscribed(
        server, admin_client.token, LOG_ADDED, {"minLevel": "INFO"}, protocol=protocol
    )
    async with at_debug as debug_sub, at_info as info_sub:
        # when: a message (DEBUG), then a status change (INFO)
        send = {"input": {"ticketId": ticket_id, "body": body}}
        (await user_client.execute(SEND_MESSAGE, send)).ok()
        (await set_status(admin_client, ticket_id, "IN_PROGRESS")).ok()
        changed = ("ticket.status_changed", ticket_id)
        debug = await debug_sub.wait_until(lambda seen: changed in events_of(seen))
        info = await info_sub.wait_until(lambda seen: changed in events_of(seen))

    assert events_of(debug)[-2:] == [("message.sent", ticket_id), changed]
    assert ("message.sent", ticket_id) not in events_of(info)
    assert {r["logAdded"]["level"] for r in info} <= {"INFO", "WARNING", "ERROR"}
    for result in debug + info:
        assert body not in json.dumps(result)


@both_protocols
async def test_a_failed_log_in_reaches_a_warning_subscriber_without_the_password(
    server: Server, admin_client: GraphQLClient, protocol: str
) -> None:
    email, wrong = fresh_email(), f"wrong-{token()}"
    async with GraphQLClient(server.graphql_url) as user:
        user_id = (await sign_up(user, email))["user"]["id"]
        watch = {"minLevel": "WARNING"}
        async with subscribed(
            server, admin_client.token, LOG_ADDED, watch, protocol=protocol
        ) as sub:
            # when: an INFO event, then a failed log-in (the owner's email, a wrong password)
            ticket_id = (await create_ticket(user))["id"]
            failed = await user.execute(LOG_IN, {"input": {"email": email, "password": wrong}})
            heard = await sub.wait_until(
                lambda seen: any(r["logAdded"]["event"] == "auth.login_failed" for r in seen)
            )

    assert failed.codes == ["UNAUTHENTICATED"]
    assert [r["logAdded"]["level"] for r in heard] == ["WARNING"] * len(heard)
    assert heard[-1]["logAdded"]["actor"] == {"id": user_id}
    assert ("ticket.created", ticket_id) not in events_of(heard)
    for result in heard:
        assert wrong not in json.dumps(result)
        assert PASSWORD not in json.dumps(result)
