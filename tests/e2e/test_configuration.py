"""The contract's "Configuration", end to end, on a server of its own per backend.

Every test here runs against one server per backend that no other module shares, so
changing the configuration cannot disturb the rest of the suite. Tests that close
registration or narrow the categories put them back in a `finally` block.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any

import pytest

from tests.conftest import BACKENDS, backend_env
from tests.e2e.helpers_tickets import (
    CONFIGURATION,
    CREATE_TICKET,
    UPDATE_CONFIGURATION,
    add_admin,
    assert_bad_input,
    configure,
    fresh_email,
    logged_in,
    my_id,
    signed_up,
)
from tests.support.client import SIGN_UP, GraphQLClient
from tests.support.server import Server

SEEDED = {
    "registrationOpen": True,
    "maxOpenTicketsPerUser": 10,
    "maxMessageLength": 5000,
    "ticketCategories": ["General", "Billing", "Technical"],
    "version": 1,
    "updatedBy": None,
}


@pytest.fixture(scope="module", params=BACKENDS)
def own_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp(f"config-{request.param}")
    env = backend_env(request.param, request, workdir, f"config_{uuid.uuid4().hex[:6]}")
    running = Server(env, workdir).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def own_admin_email(own_server: Server) -> str:
    return add_admin(own_server)


@pytest.fixture
async def admin(own_server: Server, own_admin_email: str) -> AsyncIterator[GraphQLClient]:
    async with logged_in(own_server, own_admin_email) as graphql:
        yield graphql


@pytest.fixture
async def user(own_server: Server) -> AsyncIterator[GraphQLClient]:
    async with signed_up(own_server) as graphql:
        yield graphql


@pytest.fixture
async def anonymous(own_server: Server) -> AsyncIterator[GraphQLClient]:
    async with GraphQLClient(own_server.graphql_url) as graphql:
        yield graphql


async def read(client: GraphQLClient) -> dict[str, Any]:
    config: dict[str, Any] = (await client.execute(CONFIGURATION)).ok()["configuration"]
    return config


def _sign_up(email: str) -> dict[str, Any]:
    return {"input": {"email": email, "password": "long enough pw", "displayName": "Newcomer"}}


async def test_anyone_reads_the_seeded_defaults_before_any_update(
    anonymous: GraphQLClient, user: GraphQLClient
) -> None:
    config = await read(anonymous)

    assert {key: config[key] for key in SEEDED} == SEEDED
    assert datetime.fromisoformat(config["updatedAt"]).utcoffset() is not None
    assert await read(user) == config


async def test_only_an_admin_may_update(anonymous: GraphQLClient, user: GraphQLClient) -> None:
    before = await read(anonymous)

    as_user = await user.execute(UPDATE_CONFIGURATION, {"input": {"maxMessageLength": 42}})
    as_nobody = await anonymous.execute(UPDATE_CONFIGURATION, {"input": {"maxMessageLength": 42}})

    assert (as_user.codes, as_user.data) == (["FORBIDDEN"], None)
    assert (as_nobody.codes, as_nobody.data) == (["UNAUTHENTICATED"], None)
    assert await read(anonymous) == before  # version included: nothing happened


async def test_fields_left_out_keep_their_value_and_each_update_adds_one_to_version(
    admin: GraphQLClient, anonymous: GraphQLClient
) -> None:
    before = await read(anonymous)

    first = await configure(admin, maxMessageLength=before["maxMessageLength"] + 1)
    second = await configure(admin, maxOpenTicketsPerUser=before["maxOpenTicketsPerUser"] + 1)
    after = await read(anonymous)

    assert first["version"] == before["version"] + 1
    assert second["version"] == after["version"] == before["version"] + 2
    assert after["maxMessageLength"] == before["maxMessageLength"] + 1
    assert after["maxOpenTicketsPerUser"] == before["maxOpenTicketsPerUser"] + 1
    assert after["registrationOpen"] == before["registrationOpen"]
    assert after["ticketCategories"] == before["ticketCategories"]
    assert after["updatedAt"] >= before["updatedAt"]


async def test_updated_by_is_the_admin_whose_email_only_admins_see(
    admin: GraphQLClient, user: GraphQLClient, anonymous: GraphQLClient, own_admin_email: str
) -> None:
    returned = await configure(admin, registrationOpen=True)

    admin_id = await my_id(admin)
    assert returned["updatedBy"] == {"id": admin_id, "email": own_admin_email, "role": "ADMIN"}
    assert (await read(admin))["updatedBy"]["email"] == own_admin_email
    for reader in (anonymous, user):
        assert (await read(reader))["updatedBy"] == {"id": admin_id, "email": None, "role": "ADMIN"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"maxOpenTicketsPerUser": 0}, "maxOpenTicketsPerUser"),
        ({"maxOpenTicketsPerUser": 1001}, "maxOpenTicketsPerUser"),
        ({"maxMessageLength": 0}, "maxMessageLength"),
        ({"maxMessageLength": 100_001}, "maxMessageLength"),
        ({"ticketCategories": []}, "ticketCategories"),
        ({"ticketCategories": [f"Category {n}" for n in range(51)]}, "ticketCategories"),
        ({"ticketCategories": [""]}, "ticketCategories"),
        ({"ticketCategories": ["General", "  "]}, "ticketCategories"),
        ({"ticketCategories": ["General", "Billing", "General"]}, "ticketCategories"),
        # One valid field beside a bad one: the whole update is refused.
        ({"registrationOpen": False, "maxMessageLength": 0}, "maxMessageLength"),
    ],
)
async def test_out_of_bounds_values_are_bad_user_input_and_change_nothing(
    admin: GraphQLClient, anonymous: GraphQLClient, changes: dict[str, Any], field: str
) -> None:
    before = await read(anonymous)

    result = await admin.execute(UPDATE_CONFIGURATION, {"input": changes})

    assert_bad_input(result, field)
    assert result.data is None
    assert await read(anonymous) == before


async def test_the_bounds_themselves_are_accepted(
    admin: GraphQLClient, anonymous: GraphQLClient
) -> None:
    before = await read(anonymous)
    fifty = [f"Category {n}" for n in range(50)]
    try:
        low = await configure(admin, maxOpenTicketsPerUser=1, maxMessageLength=1)
        high = await configure(
            admin, maxOpenTicketsPerUser=1000, maxMessageLength=100_000, ticketCategories=fifty
        )
        single = await configure(admin, ticketCategories=["Only one"])
    finally:
        await configure(
            admin,
            maxOpenTicketsPerUser=before["maxOpenTicketsPerUser"],
            maxMessageLength=before["maxMessageLength"],
            ticketCategories=before["ticketCategories"],
        )

    assert (low["maxOpenTicketsPerUser"], low["maxMessageLength"]) == (1, 1)
    assert (high["maxOpenTicketsPerUser"], high["maxMessageLength"]) == (1000, 100_000)
    assert high["ticketCategories"] == fifty
    assert single["ticketCategories"] == ["Only one"]


async def test_a_new_category_is_usable_at_once_and_a_removed_one_is_refused(
    admin: GraphQLClient, user: GraphQLClient, anonymous: GraphQLClient
) -> None:
    before = (await read(anonymous))["ticketCategories"]
    added = f"Hardware {uuid.uuid4().hex[:6]}"
    ticket = {"title": "Fan noise", "description": "Loud.", "category": added}
    try:
        await configure(admin, ticketCategories=[*before, added])
        created = await user.execute(CREATE_TICKET, {"input": ticket})
        await configure(admin, ticketCategories=before)
        refused = await user.execute(CREATE_TICKET, {"input": ticket})
    finally:
        await configure(admin, ticketCategories=before)

    assert created.ok()["createTicket"]["category"] == added
    assert_bad_input(refused, "category")
    assert (await read(anonymous))["ticketCategories"] == before


async def test_closing_registration_forbids_sign_up_at_once(
    admin: GraphQLClient, anonymous: GraphQLClient
) -> None:
    try:
        closed = await configure(admin, registrationOpen=False)
        refused = await anonymous.execute(SIGN_UP, _sign_up(fresh_email()))
        reopened = await configure(admin, registrationOpen=True)
        accepted = await anonymous.execute(SIGN_UP, _sign_up(fresh_email()))
    finally:
        await configure(admin, registrationOpen=True)

    assert closed["registrationOpen"] is False
    assert (refused.codes, refused.data) == (["FORBIDDEN"], None)
    assert reopened["registrationOpen"] is True
    assert accepted.ok()["signUp"]["user"]["role"] == "USER"
