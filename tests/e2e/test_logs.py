"""The contract's "Logs", end to end: the activity log as an admin pages through it."""

from __future__ import annotations

from typing import Any

from tests.e2e.helpers_tickets import (
    CONFIGURATION,
    CREATE_TICKET,
    LOGS,
    SEND_MESSAGE,
    UPDATE_CONFIGURATION,
    assign,
    create_ticket,
    log_nodes,
    my_id,
    set_status,
    signed_up,
    token,
)
from tests.support.client import LOG_IN, GraphQLClient, log_in, sign_up
from tests.support.server import Server

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# The changes the contract names; a refused attempt must not look like one of them.
CHANGE_EVENTS = {
    "user.signed_up",
    "ticket.created",
    "ticket.status_changed",
    "ticket.assigned",
    "message.sent",
    "configuration.updated",
}


def of(entries: list[dict[str, Any]], event: str, **match: Any) -> list[dict[str, Any]]:
    """Entries of one event whose ticketId / actor id match."""
    return [
        entry
        for entry in entries
        if entry["event"] == event
        and all(
            (entry["actor"] or {}).get("id") == value if key == "actor" else entry[key] == value
            for key, value in match.items()
        )
    ]


async def test_logs_are_for_admins_only(client: GraphQLClient, user_client: GraphQLClient) -> None:
    as_user = await user_client.execute(LOGS, {"first": 5})
    as_nobody = await client.execute(LOGS, {"first": 5})

    assert (as_user.codes, as_user.data) == (["FORBIDDEN"], None)
    assert (as_nobody.codes, as_nobody.data) == (["UNAUTHENTICATED"], None)


async def test_every_listed_event_is_recorded_with_actor_ticket_and_level(
    server: Server, admin_client: GraphQLClient, unique_email: str
) -> None:
    admin_id = await my_id(admin_client)
    async with GraphQLClient(server.graphql_url) as user:
        user_id = (await sign_up(user, unique_email))["user"]["id"]
        await log_in(user, unique_email)
        failed = await user.execute(
            LOG_IN, {"input": {"email": unique_email, "password": "nope" * 3}}
        )
        ticket_id = (await create_ticket(user))["id"]
        (await set_status(admin_client, ticket_id, "IN_PROGRESS")).ok()
        (await assign(admin_client, ticket_id, admin_id)).ok()
        (await user.execute(SEND_MESSAGE, {"input": {"ticketId": ticket_id, "body": "Hi"}})).ok()
        current = (await admin_client.execute(CONFIGURATION)).ok()["configuration"]
        same = {"registrationOpen": current["registrationOpen"]}  # changes nothing for others
        (await admin_client.execute(UPDATE_CONFIGURATION, {"input": same})).ok()

    entries = await log_nodes(admin_client, "DEBUG")

    assert failed.codes == ["UNAUTHENTICATED"]
    expected = [
        ("user.signed_up", "INFO", user_id, None),
        ("auth.logged_in", "INFO", user_id, None),
        ("ticket.created", "INFO", user_id, ticket_id),
        ("ticket.status_changed", "INFO", admin_id, ticket_id),
        ("ticket.assigned", "INFO", admin_id, ticket_id),
        ("message.sent", "DEBUG", user_id, ticket_id),
        ("configuration.updated", "INFO", admin_id, None),
    ]
    for event, level, actor, ticket in expected:
        found = of(entries, event, actor=actor)
        assert len(found) >= 1, event
        assert (found[0]["level"], found[0]["ticketId"]) == (level, ticket), event
    newest_warning = (await log_nodes(admin_client, "WARNING", first=1))[0]
    assert (newest_warning["event"], newest_warning["level"]) == ("auth.login_failed", "WARNING")


async def test_no_entry_holds_a_password_a_token_or_a_message_body(
    server: Server, admin_client: GraphQLClient
) -> None:
    secret = f"pw-{token()}"
    wrong = f"wrong-{token()}"
    body = f"my card number is {token()}"
    email = f"secrets-{token()}@example.com"
    async with GraphQLClient(server.graphql_url) as user:
        access = (await sign_up(user, email, password=secret))["accessToken"]
        await user.execute(LOG_IN, {"input": {"email": email, "password": wrong}})
        relogged = (await log_in(user, email, password=secret))["accessToken"]
        refresh = user.cookies["refresh_token"]
        ticket_id = (await create_ticket(user, "Card", description="see message"))["id"]
        (await user.execute(SEND_MESSAGE, {"input": {"ticketId": ticket_id, "body": body}})).ok()

    entries = await log_nodes(admin_client, "DEBUG")

    assert of(entries, "message.sent", ticketId=ticket_id)  # the log did see the message
    for entry in entries:
        text = f"{entry['event']} {entry['message']}"
        for leaked in (secret, wrong, body, access, relogged, refresh):
            assert leaked not in text, (leaked, entry)
        assert access.split(".")[2] not in text  # not even the token's signature


async def test_min_level_filters_debug_info_and_warning(
    server: Server, user_client: GraphQLClient, admin_client: GraphQLClient, unique_email: str
) -> None:
    ticket_id = (await create_ticket(user_client))["id"]
    (await user_client.execute(SEND_MESSAGE, {"input": {"ticketId": ticket_id, "body": "x"}})).ok()
    async with GraphQLClient(server.graphql_url) as stranger:
        await stranger.execute(LOG_IN, {"input": {"email": unique_email, "password": "bad" * 4}})

    by_level = {level: await log_nodes(admin_client, level) for level in LEVELS}
    default = (await admin_client.execute(LOGS, {"first": 100})).ok()["logs"]["edges"]

    assert of(by_level["DEBUG"], "message.sent", ticketId=ticket_id)
    assert of(by_level["DEBUG"], "ticket.created", ticketId=ticket_id)
    assert not of(by_level["INFO"], "message.sent", ticketId=ticket_id)
    assert of(by_level["INFO"], "ticket.created", ticketId=ticket_id)
    assert by_level["WARNING"][0]["event"] == "auth.login_failed"
    for minimum, entries in by_level.items():
        allowed = LEVELS[LEVELS.index(minimum) :]
        assert {entry["level"] for entry in entries} <= set(allowed), minimum
    assert [edge["node"] for edge in default] == by_level["INFO"]  # INFO is the default


async def test_logs_are_newest_first_and_paged_with_first_and_after(
    user_client: GraphQLClient, admin_client: GraphQLClient
) -> None:
    for n in range(3):
        await create_ticket(user_client, f"log page {n}")

    first_page = (await admin_client.execute(LOGS, {"first": 3})).ok()["logs"]
    cursor = first_page["pageInfo"]["endCursor"]
    second_page = (await admin_client.execute(LOGS, {"first": 3, "after": cursor})).ok()["logs"]
    six = await log_nodes(admin_client, "INFO", first=6)

    paged = [edge["node"] for edge in first_page["edges"] + second_page["edges"]]
    assert paged == six
    assert first_page["pageInfo"]["hasNextPage"] is True
    ids = [int(entry["id"]) for entry in six]
    assert ids == sorted(ids, reverse=True)
    assert [entry["createdAt"] for entry in six] == sorted(
        (entry["createdAt"] for entry in six), reverse=True
    )
    assert [e["event"] for e in six[:3]] == ["ticket.created"] * 3


async def test_a_refused_change_leaves_no_entry(
    server: Server, user_client: GraphQLClient, admin_client: GraphQLClient
) -> None:
    ticket_id = (await create_ticket(user_client))["id"]
    (await set_status(user_client, ticket_id, "CLOSED")).ok()
    user_id = await my_id(user_client)
    async with signed_up(server) as stranger:
        newest = int((await log_nodes(admin_client, "DEBUG", first=1))[0]["id"])

        refused = [
            await user_client.execute(CREATE_TICKET, {"input": {"title": "", "description": "x"}}),
            await user_client.execute(
                SEND_MESSAGE, {"input": {"ticketId": ticket_id, "body": "hi"}}
            ),
            await set_status(user_client, ticket_id, "CLOSED"),
            await set_status(user_client, ticket_id, "OPEN"),
            await assign(admin_client, ticket_id, user_id),
            await admin_client.execute(UPDATE_CONFIGURATION, {"input": {"maxMessageLength": 0}}),
            await set_status(stranger, ticket_id, "CLOSED"),
        ]

    assert [r.codes for r in refused] == [
        ["BAD_USER_INPUT"], ["CONFLICT"], ["BAD_USER_INPUT"], ["FORBIDDEN"],
        ["BAD_USER_INPUT"], ["BAD_USER_INPUT"], ["NOT_FOUND"],
    ]  # fmt: skip
    since = [e for e in await log_nodes(admin_client, "DEBUG") if int(e["id"]) > newest]
    assert [e for e in since if e["event"] in CHANGE_EVENTS] == []
