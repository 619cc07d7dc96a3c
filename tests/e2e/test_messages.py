"""The contract's "Chat messages", end to end: who may write, what is kept, reading in order."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import BACKENDS, ServerFactory
from tests.e2e.helpers_tickets import (
    SEND_MESSAGE,
    TICKET,
    TICKETS,
    add_admin,
    assert_bad_input,
    configure,
    create_ticket,
    logged_in,
    my_id,
    set_status,
    signed_up,
)
from tests.support.client import GraphQLClient, Result
from tests.support.server import Server

MESSAGES = """
query Messages($id: ID!, $first: Int, $after: String) {
  ticket(id: $id) {
    id
    messages(first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      edges { cursor node { id ticketId body createdAt author { id displayName email } } }
    }
  }
}
"""

GREETING = "🎫 你好, ça va? 👍🏽"
# Astral-plane emoji, CJK Extension B, a skin tone, ZWJ sequences and flags: all 4-byte UTF-8.
FOUR_BYTE_HEAVY = "😀😃😄😁 𠜎𠜱𠝹𠱓 𝄞𝄢 🧑\u200d💻 👩🏾\u200d🔧 🇫🇷🇯🇵 🏳\ufe0f\u200d🌈 " + "🎉" * 40


async def send(client: GraphQLClient, ticket_id: str, body: str) -> Result:
    return await client.execute(SEND_MESSAGE, {"input": {"ticketId": ticket_id, "body": body}})


async def messages_of(client: GraphQLClient, ticket_id: str, **page: Any) -> dict[str, Any]:
    result = await client.execute(MESSAGES, {"id": ticket_id, **page})
    connection: dict[str, Any] = result.ok()["ticket"]["messages"]
    return connection


def bodies(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["body"] for edge in connection["edges"]]


async def test_the_owner_and_an_admin_write_on_a_ticket(
    user_client: GraphQLClient, admin_client: GraphQLClient
) -> None:
    ticket = await create_ticket(user_client)

    from_owner = (await send(user_client, ticket["id"], "My printer smokes.")).ok()["sendMessage"]
    from_admin = (await send(admin_client, ticket["id"], "Unplug it.")).ok()["sendMessage"]

    assert from_owner["ticketId"] == from_admin["ticketId"] == ticket["id"]
    assert from_owner["author"]["id"] == await my_id(user_client)
    assert from_admin["author"]["id"] == await my_id(admin_client)
    assert bodies(await messages_of(user_client, ticket["id"])) == [
        "My printer smokes.",
        "Unplug it.",
    ]


async def test_another_user_writing_gets_not_found_like_a_missing_ticket(
    server: Server, user_client: GraphQLClient
) -> None:
    ticket = await create_ticket(user_client)

    async with signed_up(server) as stranger:
        hidden = await send(stranger, ticket["id"], "Let me in")
        missing = await send(stranger, "987654321", "Let me in")

    assert hidden.codes == missing.codes == ["NOT_FOUND"]
    assert hidden.errors[0]["message"] == missing.errors[0]["message"]
    assert hidden.data is None
    assert bodies(await messages_of(user_client, ticket["id"])) == []


async def test_sending_without_a_token_is_unauthenticated(
    client: GraphQLClient, user_client: GraphQLClient
) -> None:
    ticket = await create_ticket(user_client)

    assert (await send(client, ticket["id"], "hi")).codes == ["UNAUTHENTICATED"]


async def test_the_body_is_trimmed(user_client: GraphQLClient) -> None:
    ticket = await create_ticket(user_client)

    sent = (await send(user_client, ticket["id"], " \n\t Hello there \n ")).ok()["sendMessage"]

    assert sent["body"] == "Hello there"
    assert bodies(await messages_of(user_client, ticket["id"])) == ["Hello there"]


@pytest.mark.parametrize("body", ["", "   ", " \n\t\r\n "])
async def test_an_empty_or_blank_body_is_bad_user_input(
    user_client: GraphQLClient, body: str
) -> None:
    ticket = await create_ticket(user_client)

    result = await send(user_client, ticket["id"], body)

    assert_bad_input(result, "body")
    assert bodies(await messages_of(user_client, ticket["id"])) == []


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_body_longer_than_max_message_length_is_bad_user_input(
    make_server: ServerFactory, backend: str
) -> None:
    own = make_server(backend)
    async with logged_in(own, add_admin(own)) as admin, signed_up(own) as user:
        await configure(admin, maxMessageLength=10)
        ticket = await create_ticket(user)

        too_long = await send(user, ticket["id"], "x" * 11)
        too_many_emoji = await send(user, ticket["id"], "😀" * 11)
        at_limit = await send(user, ticket["id"], "y" * 10)
        padded = await send(
            user, ticket["id"], "   " + "😀" * 10 + "   "
        )  # the limit is after trimming

        assert_bad_input(too_long, "body")
        assert_bad_input(too_many_emoji, "body")
        assert at_limit.ok()["sendMessage"]["body"] == "y" * 10
        assert padded.ok()["sendMessage"]["body"] == "😀" * 10
        assert bodies(await messages_of(user, ticket["id"])) == ["y" * 10, "😀" * 10]


async def test_a_closed_ticket_takes_no_messages_until_reopened(
    user_client: GraphQLClient, admin_client: GraphQLClient
) -> None:
    ticket = await create_ticket(user_client)
    (await set_status(user_client, ticket["id"], "CLOSED")).ok()

    by_owner = await send(user_client, ticket["id"], "Wait, one more thing")
    by_admin = await send(admin_client, ticket["id"], "Closing remark")
    (await set_status(admin_client, ticket["id"], "OPEN")).ok()
    after_reopening = await send(user_client, ticket["id"], "Back again")

    assert by_owner.codes == by_admin.codes == ["CONFLICT"]
    assert by_owner.data is None
    assert after_reopening.ok()["sendMessage"]["body"] == "Back again"
    assert bodies(await messages_of(user_client, ticket["id"])) == ["Back again"]


async def test_messages_are_oldest_first_and_paged_with_first_and_after(
    user_client: GraphQLClient, admin_client: GraphQLClient
) -> None:
    ticket = await create_ticket(user_client)
    writers = [user_client, admin_client] * 3
    sent = [
        (await send(w, ticket["id"], f"line {n}")).ok()["sendMessage"]
        for n, w in enumerate(writers[:5])
    ]

    pages = [await messages_of(user_client, ticket["id"], first=2)]
    while pages[-1]["pageInfo"]["hasNextPage"]:
        after = pages[-1]["pageInfo"]["endCursor"]
        pages.append(await messages_of(user_client, ticket["id"], first=2, after=after))
    everything = await messages_of(admin_client, ticket["id"])

    assert [bodies(page) for page in pages] == [
        ["line 0", "line 1"],
        ["line 2", "line 3"],
        ["line 4"],
    ]
    assert [page["pageInfo"]["hasNextPage"] for page in pages] == [True, True, False]
    ids = [int(edge["node"]["id"]) for edge in everything["edges"]]
    assert ids == sorted(ids) == [int(message["id"]) for message in sent]
    assert len(set(ids)) == 5
    assert everything["pageInfo"]["hasNextPage"] is False


async def test_message_authors_resolve_and_hide_the_agents_email_from_the_customer(
    user_client: GraphQLClient, admin_client: GraphQLClient, unique_email: str
) -> None:
    ticket = await create_ticket(user_client)
    await send(user_client, ticket["id"], "Question")
    await send(admin_client, ticket["id"], "Answer")
    admin_id = await my_id(admin_client)

    as_owner = (await messages_of(user_client, ticket["id"]))["edges"]
    as_admin = (await messages_of(admin_client, ticket["id"]))["edges"]

    owner_view = [edge["node"]["author"] for edge in as_owner]
    assert [(a["id"], a["email"]) for a in owner_view] == [
        (await my_id(user_client), unique_email.lower()),
        (admin_id, None),  # a customer never learns an agent's address
    ]
    assert all(author["displayName"] for author in owner_view)
    assert [edge["node"]["author"]["email"] for edge in as_admin] == [
        unique_email.lower(),
        "admin@example.test",
    ]


@pytest.mark.parametrize("text", [GREETING, FOUR_BYTE_HEAVY])
async def test_emoji_and_cjk_round_trip_unchanged(
    user_client: GraphQLClient, admin_client: GraphQLClient, text: str
) -> None:
    ticket = await create_ticket(user_client, text, description=f"{text}\n{text}")
    (await send(user_client, ticket["id"], text)).ok()

    fetched = (await admin_client.execute(TICKET, {"id": ticket["id"]})).ok()["ticket"]
    listed = (await user_client.execute(TICKETS, {"first": 1})).ok()["tickets"]["edges"]
    found = await user_client.execute(TICKETS, {"filter": {"search": text}})

    assert (fetched["title"], fetched["description"]) == (text, f"{text}\n{text}")
    assert listed[0]["node"]["title"] == text
    assert bodies(await messages_of(admin_client, ticket["id"])) == [text]
    assert [edge["node"]["id"] for edge in found.ok()["tickets"]["edges"]] == [ticket["id"]]


async def test_searching_an_emoji_finds_only_tickets_that_contain_it(
    user_client: GraphQLClient,
) -> None:
    pizza = await create_ticket(user_client, "🍕 party", description="bring 🍕")
    await create_ticket(user_client, "🍔 party", description="bring 🍔")

    found = (await user_client.execute(TICKETS, {"filter": {"search": "🍕"}})).ok()["tickets"]
    absent = (await user_client.execute(TICKETS, {"filter": {"search": "😀"}})).ok()["tickets"]

    assert [edge["node"]["id"] for edge in found["edges"]] == [pizza["id"]]
    assert (absent["edges"], absent["totalCount"]) == ([], 0)
