"""The contract's "Authentication and sessions", end to end: a real server, a real client."""

from __future__ import annotations

import asyncio
import contextlib

import jwt
import pytest

from tests.support.client import (
    LOG_IN,
    PASSWORD,
    SIGN_UP,
    GraphQLClient,
    log_in,
    sign_up,
)
from tests.support.server import Server

ME = "query { me { id email displayName role } }"
REFRESH = "mutation { refreshToken { accessToken accessTokenExpiresAt user { id email } } }"
LOG_OUT = "mutation { logOut }"
COOKIE_DOMAIN = "127.0.0.1"  # where the test servers listen: the jar's domain for their cookies


def _sign_up_input(email: str, password: str = PASSWORD, name: str = "Ada") -> dict[str, object]:
    return {"input": {"email": email, "password": password, "displayName": name}}


async def test_sign_up_creates_a_user_and_sets_the_refresh_cookie(
    client: GraphQLClient, unique_email: str
) -> None:
    result = await client.execute(SIGN_UP, _sign_up_input(unique_email))

    payload = result.ok()["signUp"]
    assert payload["user"]["role"] == "USER"
    assert payload["user"]["email"] == unique_email.lower()
    assert payload["accessToken"].count(".") == 2
    cookie = client.last_headers["set-cookie"]
    assert cookie.startswith("refresh_token=")
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "path=/graphql", "samesite=lax"} <= attributes
    assert "secure" not in attributes  # COOKIE_SECURE is off unless configured


async def test_sign_up_with_a_taken_email_in_other_case_is_a_conflict(
    client: GraphQLClient, unique_email: str
) -> None:
    await sign_up(client, unique_email)

    result = await client.execute(SIGN_UP, _sign_up_input(unique_email.upper()))

    assert result.codes == ["CONFLICT"]


@pytest.mark.parametrize(
    ("email", "password", "name", "field"),
    [
        ("not-an-email", PASSWORD, "Ada", "email"),
        ("short@example.com", "1234567", "Ada", "password"),
        ("blank@example.com", PASSWORD, "   ", "displayName"),
    ],
)
async def test_sign_up_rejects_bad_input_naming_the_field(
    client: GraphQLClient, email: str, password: str, name: str, field: str
) -> None:
    result = await client.execute(SIGN_UP, _sign_up_input(email, password, name))

    assert result.codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["extensions"]["field"] == field
    assert result.data is None


async def test_me_is_the_signed_in_user_or_null_without_a_token(
    client: GraphQLClient, unique_email: str
) -> None:
    anonymous = await client.execute(ME)
    assert anonymous.ok() == {"me": None}

    payload = await sign_up(client, unique_email)
    me = (await client.execute(ME)).ok()["me"]

    assert me == {
        "id": payload["user"]["id"],
        "email": unique_email.lower(),
        "displayName": "Test User",
        "role": "USER",
    }


@pytest.mark.parametrize("header_token", ["garbage", "a.b.c"])
async def test_a_malformed_token_is_unauthenticated(
    client: GraphQLClient, header_token: str
) -> None:
    result = await client.execute(ME, token=header_token)

    assert result.codes == ["UNAUTHENTICATED"]


async def test_log_in_is_case_insensitive_and_starts_a_new_session(
    client: GraphQLClient, server: Server, unique_email: str
) -> None:
    await sign_up(client, unique_email)

    async with GraphQLClient(server.graphql_url) as other_browser:
        payload = await log_in(other_browser, unique_email.upper())
        me = (await other_browser.execute(ME)).ok()["me"]

    assert me["email"] == unique_email.lower()
    assert payload["accessToken"] != client.token


async def test_wrong_password_and_unknown_email_fail_the_same_way(
    client: GraphQLClient, unique_email: str
) -> None:
    await sign_up(client, unique_email)

    wrong_password = await client.execute(
        LOG_IN, {"input": {"email": unique_email, "password": "wrong password"}}
    )
    unknown_email = await client.execute(
        LOG_IN, {"input": {"email": "nobody-" + unique_email, "password": PASSWORD}}
    )

    assert wrong_password.codes == unknown_email.codes == ["UNAUTHENTICATED"]
    assert wrong_password.errors[0]["message"] == unknown_email.errors[0]["message"]


async def test_refresh_rotates_the_cookie_and_returns_a_working_token(
    client: GraphQLClient, unique_email: str
) -> None:
    await sign_up(client, unique_email)
    first_cookie = client.cookies["refresh_token"]

    refreshed = (await client.execute(REFRESH)).ok()["refreshToken"]

    assert client.cookies["refresh_token"] != first_cookie
    assert refreshed["user"]["email"] == unique_email.lower()
    me = await client.execute(ME, token=refreshed["accessToken"])
    assert me.ok()["me"]["email"] == unique_email.lower()


async def test_a_reused_refresh_token_revokes_the_whole_session(
    client: GraphQLClient, server: Server, unique_email: str
) -> None:
    await sign_up(client, unique_email)
    stolen_cookie = client.cookies["refresh_token"]
    # Rotated twice since: within the grace period a token rotated once still
    # yields its successor (test_two_tabs_refreshing_at_once_stay_signed_in);
    # one whose successor was rotated too has nothing to yield and is reuse.
    (await client.execute(REFRESH)).ok()
    refreshed = (await client.execute(REFRESH)).ok()["refreshToken"]

    async with GraphQLClient(server.graphql_url) as thief:
        thief.cookies.set("refresh_token", stolen_cookie, path="/graphql")
        replay = await thief.execute(REFRESH)

    assert replay.codes == ["UNAUTHENTICATED"]
    # The legitimate holder's newer tokens died with the session.
    assert (await client.execute(ME, token=refreshed["accessToken"])).codes == ["UNAUTHENTICATED"]
    assert (await client.execute(REFRESH)).codes == ["UNAUTHENTICATED"]


async def test_two_tabs_refreshing_at_once_stay_signed_in(
    client: GraphQLClient, server: Server, unique_email: str
) -> None:
    # given one browser's refresh cookie, and 20 tabs that refresh with it at once
    await sign_up(client, unique_email)
    cookie = client.cookies["refresh_token"]
    async with contextlib.AsyncExitStack() as stack:
        tabs = [
            await stack.enter_async_context(GraphQLClient(server.graphql_url)) for _ in range(20)
        ]
        for tab in tabs:
            tab.cookies.set("refresh_token", cookie, domain=COOKIE_DOMAIN, path="/graphql")
        # when
        results = await asyncio.gather(*(tab.execute(REFRESH) for tab in tabs))
        successors = {tab.cookies["refresh_token"] for tab in tabs}

    # then every tab got a working token and the same successor cookie
    assert [r.codes for r in results] == [[]] * 20
    assert len(successors) == 1
    assert successors != {cookie}
    for result in results:
        token = result.ok()["refreshToken"]["accessToken"]
        assert (await client.execute(ME, token=token)).ok()["me"]["email"] == unique_email.lower()
    # and the session goes on with that successor
    client.cookies.set("refresh_token", successors.pop(), domain=COOKIE_DOMAIN, path="/graphql")
    assert (await client.execute(REFRESH)).ok()["refreshToken"]["user"]["email"] == (
        unique_email.lower()
    )


async def test_refresh_without_a_cookie_is_unauthenticated(client: GraphQLClient) -> None:
    result = await client.execute(REFRESH)

    assert result.codes == ["UNAUTHENTICATED"]


async def test_log_out_ends_the_session_at_once_and_clears_the_cookie(
    client: GraphQLClient, unique_email: str
) -> None:
    await sign_up(client, unique_email)
    token = client.token

    logged_out = await client.execute(LOG_OUT)

    assert logged_out.ok() == {"logOut": True}
    cleared = client.last_headers["set-cookie"].lower()
    assert cleared.startswith("refresh_token=")
    assert "max-age=0" in cleared
    # The access token has not expired, but its session is gone.
    assert (await client.execute(ME, token=token)).codes == ["UNAUTHENTICATED"]
    assert (await client.execute(REFRESH)).codes == ["UNAUTHENTICATED"]


async def test_a_log_out_with_a_forged_refresh_cookie_ends_no_session(
    client: GraphQLClient, server: Server, unique_email: str
) -> None:
    # given a victim's session, whose id any of its access tokens shows
    await sign_up(client, unique_email)
    assert client.token is not None
    session_id = jwt.decode(client.token, options={"verify_signature": False})["sid"]
    async with GraphQLClient(server.graphql_url) as attacker:
        attacker.cookies.set("refresh_token", f"{session_id}.AAAA", path="/graphql")
        # when someone logs out with a cookie naming it, without its secret
        logged_out = await attacker.execute(LOG_OUT)

    # then they are answered as anyone is, and the victim's session lives on
    assert logged_out.ok() == {"logOut": True}
    assert (await client.execute(ME)).ok()["me"]["email"] == unique_email.lower()
    assert (await client.execute(REFRESH)).ok()["refreshToken"]["user"]["email"] == (
        unique_email.lower()
    )
    # while the victim's own cookie, without an access token, does end it
    client.token = None
    assert (await client.execute(LOG_OUT)).ok() == {"logOut": True}
    assert (await client.execute(REFRESH)).codes == ["UNAUTHENTICATED"]


async def test_log_out_without_a_session_still_returns_true(client: GraphQLClient) -> None:
    result = await client.execute(LOG_OUT)

    assert result.ok() == {"logOut": True}


async def test_log_out_in_one_browser_leaves_the_other_session_alone(
    client: GraphQLClient, server: Server, unique_email: str
) -> None:
    await sign_up(client, unique_email)
    async with GraphQLClient(server.graphql_url) as laptop:
        await log_in(laptop, unique_email)
        await laptop.execute(LOG_OUT)

    assert (await client.execute(ME)).ok()["me"]["email"] == unique_email.lower()


async def test_repeated_failures_for_one_email_are_rate_limited(
    client: GraphQLClient, server: Server, unique_email: str
) -> None:
    await sign_up(client, unique_email)
    wrong = {"input": {"email": unique_email, "password": "wrong password"}}
    async with GraphQLClient(server.graphql_url) as guesser:  # a browser new to the account
        failures = [await guesser.execute(LOG_IN, wrong) for _ in range(5)]

        limited = await guesser.execute(LOG_IN, wrong)
        even_right = await guesser.execute(
            LOG_IN, {"input": {"email": unique_email, "password": PASSWORD}}
        )

    assert [r.codes for r in failures] == [["UNAUTHENTICATED"]] * 5
    assert limited.codes == ["RATE_LIMITED"]
    assert limited.errors[0]["extensions"]["retryAfter"] > 0
    assert even_right.codes == ["RATE_LIMITED"]


async def test_successful_log_ins_do_not_count_towards_the_limit(
    client: GraphQLClient, unique_email: str
) -> None:
    await sign_up(client, unique_email)

    results = [
        await client.execute(LOG_IN, {"input": {"email": unique_email, "password": PASSWORD}})
        for _ in range(8)
    ]

    assert all(not r.errors for r in results)
