"""The contract's "Tickets", end to end: create, see, move, assign and page through tickets."""

from __future__ import annotations

import asyncio
import re

import pytest

from tests.conftest import ADMIN_EMAILS, BACKENDS, ServerFactory
from tests.e2e.helpers_tickets import (
    CREATE_TICKET,
    TICKET,
    TICKETS,
    add_admin,
    assert_bad_input,
    assign,
    configure,
    create_ticket,
    ids_of,
    list_tickets,
    log_nodes,
    logged_in,
    my_id,
    set_status,
    signed_up,
)
from tests.support.client import GraphQLClient
from tests.support.server import Server

MISSING_ID = "987654321"
STATUSES = ("OPEN", "IN_PROGRESS", "ON_HOLD", "RESOLVED", "CLOSED")


def _create(title: str = "Broken", description: str = "It broke.", **extra: object) -> dict:
    return {"input": {"title": title, "description": description, **extra}}


async def test_given_a_user_when_creating_a_ticket_then_it_is_open_normal_and_theirs(
    user_client: GraphQLClient, unique_email: str
) -> None:
    ticket = await create_ticket(user_client, "Printer on fire")

    assert (ticket["status"], ticket["priority"]) == ("OPEN", "NORMAL")
    assert [ticket[name] for name in ("category", "assignee", "closedAt")] == [None] * 3
    assert (ticket["owner"]["email"], ticket["owner"]["role"]) == (unique_email.lower(), "USER")
    fetched = (await user_client.execute(TICKET, {"id": ticket["id"]})).ok()["ticket"]
    assert fetched == ticket


async def test_create_ticket_keeps_priority_category_and_a_200_character_title(
    user_client: GraphQLClient,
) -> None:
    ticket = await create_ticket(user_client, "x" * 200, priority="URGENT", category="Billing")

    assert (ticket["priority"], ticket["category"]) == ("URGENT", "Billing")
    assert ticket["title"] == "x" * 200


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"description": ""}, "description"),
        ({"category": "No such category"}, "category"),
    ],
)
async def test_create_ticket_rejects_bad_input_naming_the_field(
    user_client: GraphQLClient, fields: dict, field: str
) -> None:
    result = await user_client.execute(CREATE_TICKET, _create(**fields))

    assert_bad_input(result, field)
    assert result.data is None
    assert (await list_tickets(user_client))["totalCount"] == 0


async def test_create_ticket_without_a_token_is_unauthenticated(client: GraphQLClient) -> None:
    result = await client.execute(CREATE_TICKET, _create())

    assert result.codes == ["UNAUTHENTICATED"]


async def test_a_user_lists_only_their_own_tickets_even_with_another_owner_id(
    server: Server, user_client: GraphQLClient, admin_client: GraphQLClient
) -> None:
    mine = await create_ticket(user_client)
    async with signed_up(server) as other:
        theirs = await create_ticket(other)
        other_id = await my_id(other)

    listed = await list_tickets(user_client, first=100)
    as_user = await list_tickets(user_client, filter={"ownerId": other_id})
    everything = await list_tickets(admin_client, first=100)
    as_admin = await list_tickets(admin_client, filter={"ownerId": other_id})

    assert (ids_of(listed), listed["totalCount"]) == ([mine["id"]], 1)
    assert (ids_of(as_user), as_user["totalCount"]) == ([mine["id"]], 1)  # ownerId is ignored
    assert {mine["id"], theirs["id"]} <= set(ids_of(everything))
    assert (ids_of(as_admin), as_admin["totalCount"]) == ([theirs["id"]], 1)


async def test_someone_elses_ticket_is_not_found_exactly_like_a_missing_one(
    server: Server, user_client: GraphQLClient, admin_client: GraphQLClient
) -> None:
    async with signed_up(server) as other:
        theirs = await create_ticket(other)

    hidden = await user_client.execute(TICKET, {"id": theirs["id"]})
    missing = await user_client.execute(TICKET, {"id": MISSING_ID})

    assert hidden.data == missing.data == {"ticket": None}
    assert hidden.codes == missing.codes == ["NOT_FOUND"]
    assert hidden.errors[0]["message"] == missing.errors[0]["message"]
    seen_by_admin = (await admin_client.execute(TICKET, {"id": theirs["id"]})).ok()
    assert seen_by_admin["ticket"]["id"] == theirs["id"]


async def test_the_owner_may_only_close_and_closing_sets_closed_at(
    user_client: GraphQLClient,
) -> None:
    ticket_id = (await create_ticket(user_client))["id"]

    refused = [await set_status(user_client, ticket_id, s) for s in STATUSES[1:4]]
    closed = (await set_status(user_client, ticket_id, "CLOSED")).ok()["updateTicketStatus"]
    reopen = await set_status(user_client, ticket_id, "OPEN")
    again = await set_status(user_client, ticket_id, "CLOSED")

    assert [r.codes for r in refused] == [["FORBIDDEN"]] * 3
    assert closed["status"] == "CLOSED"
    assert closed["closedAt"] is not None
    assert reopen.codes == ["FORBIDDEN"]
    assert_bad_input(again, "status")


async def test_an_admin_may_set_any_status_and_reopening_clears_closed_at(
    user_client: GraphQLClient, admin_client: GraphQLClient
) -> None:
    ticket_id = (await create_ticket(user_client))["id"]

    same = await set_status(admin_client, ticket_id, "OPEN")
    seen = []
    for status in (*STATUSES[1:], "OPEN"):
        changed = (await set_status(admin_client, ticket_id, status)).ok()["updateTicketStatus"]
        seen.append((changed["status"], changed["closedAt"] is not None))

    assert_bad_input(same, "status")  # the status it already has
    assert seen == [(s, s == "CLOSED") for s in (*STATUSES[1:], "OPEN")]
    fetched = (await user_client.execute(TICKET, {"id": ticket_id})).ok()["ticket"]
    assert (fetched["status"], fetched["closedAt"]) == ("OPEN", None)


async def test_changing_another_users_ticket_is_not_found_and_changes_nothing(
    server: Server, user_client: GraphQLClient
) -> None:
    async with signed_up(server) as other:
        theirs = await create_ticket(other)

        result = await set_status(user_client, theirs["id"], "CLOSED")

        assert result.codes == ["NOT_FOUND"]
        after = (await other.execute(TICKET, {"id": theirs["id"]})).ok()["ticket"]
        assert after["status"] == "OPEN"


async def test_assigning_is_for_admins_only(
    user_client: GraphQLClient, admin_client: GraphQLClient
) -> None:
    ticket = await create_ticket(user_client)

    result = await assign(user_client, ticket["id"], await my_id(admin_client))

    assert result.codes == ["FORBIDDEN"]


@pytest.mark.parametrize("assignee", ["a user", MISSING_ID])
async def test_the_assignee_must_be_an_admin(
    user_client: GraphQLClient, admin_client: GraphQLClient, assignee: str
) -> None:
    ticket = await create_ticket(user_client)
    assignee_id = await my_id(user_client) if assignee == "a user" else assignee

    result = await assign(admin_client, ticket["id"], assignee_id)

    assert_bad_input(result, "assigneeId")


async def test_assign_resolves_the_assignee_and_null_unassigns(
    server: Server, user_client: GraphQLClient, admin_client: GraphQLClient
) -> None:
    ticket = await create_ticket(user_client)
    async with logged_in(server, ADMIN_EMAILS[1]) as agent:
        agent_id = await my_id(agent)

    assigned = await assign(admin_client, ticket["id"], agent_id)
    seen_by_owner = (await user_client.execute(TICKET, {"id": ticket["id"]})).ok()["ticket"]
    unassigned = await assign(admin_client, ticket["id"], None)

    assignee = assigned.ok()["assignTicket"]["assignee"]
    assert (assignee["id"], assignee["email"], assignee["role"]) == (
        agent_id,
        ADMIN_EMAILS[1],
        "ADMIN",
    )
    assert seen_by_owner["assignee"]["id"] == agent_id
    assert seen_by_owner["assignee"]["email"] is None  # a customer never learns an agent's address
    assert unassigned.ok()["assignTicket"]["assignee"] is None


async def test_tickets_are_listed_newest_first(user_client: GraphQLClient) -> None:
    made = [(await create_ticket(user_client, f"number {n}"))["id"] for n in range(3)]

    listed = await list_tickets(user_client)

    assert ids_of(listed) == made[::-1]
    created = [edge["node"]["createdAt"] for edge in listed["edges"]]
    assert created == sorted(created, reverse=True)


@pytest.mark.parametrize("first", [0, -1, 101])
async def test_first_outside_1_to_100_is_bad_user_input(
    user_client: GraphQLClient, first: int
) -> None:
    assert_bad_input(await user_client.execute(TICKETS, {"first": first}), "first")
    assert (await user_client.execute(TICKETS, {"first": 100})).ok()["tickets"]["edges"] == []


async def test_paging_with_cursors_is_stable_while_tickets_are_created(
    user_client: GraphQLClient,
) -> None:
    made = [(await create_ticket(user_client, f"page {n}"))["id"] for n in range(7)]

    pages = [await list_tickets(user_client, first=3)]
    await create_ticket(user_client, "created while paging")
    while pages[-1]["pageInfo"]["hasNextPage"]:
        pages.append(
            await list_tickets(user_client, first=3, after=pages[-1]["pageInfo"]["endCursor"])
        )
    replay = await list_tickets(user_client, first=3, after=pages[0]["pageInfo"]["endCursor"])

    seen = [ticket_id for page in pages for ticket_id in ids_of(page)]
    assert seen == made[::-1]  # nothing repeated, nothing missing, newest first
    assert [len(page["edges"]) for page in pages] == [3, 3, 1]
    assert [page["pageInfo"]["hasNextPage"] for page in pages] == [True, True, False]
    assert ids_of(replay) == ids_of(pages[1])
    assert all(isinstance(page["pageInfo"]["endCursor"], str) for page in pages)
    assert [p["totalCount"] for p in pages] == [7, 8, 8]


@pytest.mark.parametrize("cursor", ["not a cursor", "", "!!!!", "dGlja2V0OmFiYw"])
async def test_a_malformed_cursor_is_bad_user_input(
    user_client: GraphQLClient, cursor: str
) -> None:
    result = await user_client.execute(TICKETS, {"first": 3, "after": cursor})

    assert result.codes == ["BAD_USER_INPUT"]


async def test_status_and_priority_filters_with_total_count(user_client: GraphQLClient) -> None:
    await create_ticket(user_client, priority="HIGH")
    low = await create_ticket(user_client, priority="LOW")
    normal = await create_ticket(user_client)
    (await set_status(user_client, low["id"], "CLOSED")).ok()

    closed = await list_tickets(user_client, filter={"status": ["CLOSED"]})
    open_or_closed = await list_tickets(user_client, filter={"status": ["OPEN", "CLOSED"]})
    high_or_low = await list_tickets(user_client, first=1, filter={"priority": ["HIGH", "LOW"]})
    open_normal = await list_tickets(user_client, filter={"status": "OPEN", "priority": "NORMAL"})

    assert (ids_of(closed), closed["totalCount"]) == ([low["id"]], 1)
    assert open_or_closed["totalCount"] == 3
    assert (ids_of(high_or_low), high_or_low["totalCount"]) == ([low["id"]], 2)
    assert ids_of(open_normal) == [normal["id"]]


async def test_assignee_filter(user_client: GraphQLClient, admin_client: GraphQLClient) -> None:
    admin_id = await my_id(admin_client)
    assigned = await create_ticket(user_client)
    await create_ticket(user_client)
    (await assign(admin_client, assigned["id"], admin_id)).ok()

    as_user = await list_tickets(user_client, filter={"assigneeId": admin_id})
    as_admin = await list_tickets(
        admin_client, filter={"assigneeId": admin_id, "ownerId": await my_id(user_client)}
    )

    assert ids_of(as_user) == ids_of(as_admin) == [assigned["id"]]
    assert as_admin["edges"][0]["node"]["assignee"] == {"id": admin_id}


@pytest.mark.parametrize("word", ["Router", "été à Noël"])
async def test_search_matches_title_and_description_ignoring_case(
    user_client: GraphQLClient, word: str
) -> None:
    in_title = await create_ticket(user_client, f"The {word} blinks")
    in_description = await create_ticket(user_client, "Other", description=f"see {word.upper()}!")
    await create_ticket(user_client, "Unrelated")

    found = await list_tickets(user_client, filter={"search": word.swapcase()})

    assert set(ids_of(found)) == {in_title["id"], in_description["id"]}
    assert found["totalCount"] == 2


@pytest.mark.parametrize(
    ("search", "expected"), [("%", ["100% done"]), ("_", ["a_b"]), ("a_b", ["a_b"])]
)
async def test_search_treats_percent_and_underscore_literally(
    user_client: GraphQLClient, search: str, expected: list[str]
) -> None:
    for title in ("100% done", "a_b", "axb", "plain"):
        await create_ticket(user_client, title, description="nothing special")

    found = (await user_client.execute(TICKETS, {"filter": {"search": search}})).ok()["tickets"]

    assert [edge["node"]["title"] for edge in found["edges"]] == expected


@pytest.mark.parametrize("backend", BACKENDS)
async def test_open_ticket_quota_is_a_conflict_and_closing_frees_a_slot(
    make_server: ServerFactory, backend: str
) -> None:
    own = make_server(backend)
    async with logged_in(own, add_admin(own)) as admin, signed_up(own) as user:
        await configure(admin, maxOpenTicketsPerUser=2)
        first = await create_ticket(user)
        await create_ticket(user)

        over = await user.execute(CREATE_TICKET, _create())
        (await set_status(user, first["id"], "CLOSED")).ok()
        freed = await user.execute(CREATE_TICKET, _create())

        assert (over.codes, over.data) == (["CONFLICT"], None)
        assert freed.ok()["createTicket"]["status"] == "OPEN"
        assert (await list_tickets(user))["totalCount"] == 3


@pytest.mark.parametrize("backend", BACKENDS)
async def test_concurrent_creations_never_pass_the_quota(
    make_server: ServerFactory, backend: str
) -> None:
    own = make_server(backend)
    async with logged_in(own, add_admin(own)) as admin:
        await configure(admin, maxOpenTicketsPerUser=3)
    outcomes = []
    for _ in range(3):  # three users, each racing 8 creations (a race may hide once)
        async with signed_up(own) as user:
            results = await asyncio.gather(
                *(user.execute(CREATE_TICKET, _create(f"rush {n}")) for n in range(8))
            )
            total = (await list_tickets(user))["totalCount"]
        outcomes.append((sorted(r.codes for r in results), total))

    assert outcomes == [([[]] * 3 + [["CONFLICT"]] * 5, 3)] * 3, outcomes


async def test_concurrent_status_changes_form_a_consistent_chain(
    user_client: GraphQLClient, admin_client: GraphQLClient
) -> None:
    ticket = await create_ticket(user_client)
    targets = [STATUSES[(3 * n + 1) % 5] for n in range(10)]  # every status, twice

    results = await asyncio.gather(*(set_status(admin_client, ticket["id"], s) for s in targets))

    assert all(r.codes in ([], ["BAD_USER_INPUT"]) for r in results), [r.errors for r in results]
    entries = [
        node for node in await log_nodes(admin_client, "INFO")
        if node["event"] == "ticket.status_changed" and node["ticketId"] == ticket["id"]
    ][::-1]  # fmt: skip
    chain = [re.findall(rf"\b(?:{'|'.join(STATUSES)})\b", e["message"]) for e in entries]
    assert len(chain) == sum(1 for r in results if not r.errors) >= 1
    previous = "OPEN"
    for names in chain:
        assert (len(names), names[0]) == (2, previous), chain
        assert names[1] != previous, chain
        previous = names[1]
    final = (await admin_client.execute(TICKET, {"id": ticket["id"]})).ok()["ticket"]
    assert final["status"] == previous
