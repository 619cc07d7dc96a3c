"""Ticket lists load owners, assignees, message pages and authors ahead of their fields
(graphql/tickets/load_ahead.py): whatever shape the document takes, each field
still answers what it alone would have answered."""

from __future__ import annotations

from typing import Any

from tests.e2e.helpers_tickets import SEND_MESSAGE, assert_bad_input, create_ticket, my_id
from tests.support.client import GraphQLClient

PAGE = """
query Page($owner: ID!, $all: Int, $after: String) {
  tickets(first: 5, filter: {ownerId: $owner}) { edges { node { ...Card } } }
}
fragment Card on Ticket {
  id
  ... on Ticket { owner { id email } }
  assignee { id }
  latest: messages(first: 1) { edges { node { body author { id } } } }
  all: messages(first: $all, after: $after) {
    pageInfo { hasNextPage }
    edges { node { body author { id email } } }
  }
}
"""

ONE = """
query One($id: ID!, $first: Int) {
  ticket(id: $id) { owner { id } messages(first: $first) { edges { node { body } } } }
}
"""


async def _conversation(owner: GraphQLClient, admin: GraphQLClient) -> dict[str, Any]:
    ticket = await create_ticket(owner)
    for sender, body in ((owner, "hello"), (admin, "hi, how can I help?"), (owner, "thanks")):
        sent = await sender.execute(
            SEND_MESSAGE, {"input": {"ticketId": ticket["id"], "body": body}}
        )
        sent.ok()
    return ticket


async def test_every_alias_and_fragment_of_a_list_gets_its_own_answer(
    user_client: GraphQLClient, admin_client: GraphQLClient
) -> None:
    # given a ticket with three messages, by its owner and an admin in turn
    ticket = await _conversation(user_client, admin_client)
    owner_id, admin_id = await my_id(user_client), await my_id(admin_client)

    # when the admin and the owner list it, two pages of messages per ticket
    as_admin = await admin_client.execute(PAGE, {"owner": owner_id, "all": 2})
    as_owner = await user_client.execute(PAGE, {"owner": owner_id, "all": 3})

    # then each alias got its own page, and each email follows the viewer
    (admin_card,) = [edge["node"] for edge in as_admin.ok()["tickets"]["edges"]]
    assert admin_card["id"] == ticket["id"]
    assert admin_card["owner"]["id"] == owner_id
    assert admin_card["owner"]["email"] is not None  # admins see every email
    assert admin_card["assignee"] is None
    assert [e["node"]["body"] for e in admin_card["latest"]["edges"]] == ["hello"]
    assert [e["node"]["author"]["id"] for e in admin_card["all"]["edges"]] == [owner_id, admin_id]
    assert admin_card["all"]["pageInfo"]["hasNextPage"] is True

    (owner_card,) = [edge["node"] for edge in as_owner.ok()["tickets"]["edges"]]
    authors = [edge["node"]["author"] for edge in owner_card["all"]["edges"]]
    assert [author["id"] for author in authors] == [owner_id, admin_id, owner_id]
    assert [author["email"] is not None for author in authors] == [True, False, True]
    assert owner_card["all"]["pageInfo"]["hasNextPage"] is False


async def test_bad_page_arguments_below_a_list_are_reported_by_their_field(
    user_client: GraphQLClient, admin_client: GraphQLClient
) -> None:
    ticket = await _conversation(user_client, admin_client)
    owner_id = await my_id(user_client)

    too_few = await admin_client.execute(PAGE, {"owner": owner_id, "all": 0})
    not_a_cursor = await admin_client.execute(PAGE, {"owner": owner_id, "all": 2, "after": "nope"})
    one_too_few = await admin_client.execute(ONE, {"id": ticket["id"], "first": 0})

    assert_bad_input(too_few, "first")
    assert too_few.errors[0]["path"][-1] == "all"
    assert_bad_input(not_a_cursor, "after")
    assert_bad_input(one_too_few, "first")
    assert one_too_few.errors[0]["path"] == ["ticket", "messages"]


async def test_a_single_ticket_loads_its_owner_and_messages_ahead_too(
    user_client: GraphQLClient, admin_client: GraphQLClient
) -> None:
    ticket = await _conversation(user_client, admin_client)

    found = (await user_client.execute(ONE, {"id": ticket["id"], "first": 2})).ok()["ticket"]

    assert found["owner"]["id"] == await my_id(user_client)
    assert [edge["node"]["body"] for edge in found["messages"]["edges"]] == [
        "hello",
        "hi, how can I help?",
    ]
