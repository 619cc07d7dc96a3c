"""Authentication behaviour that depends on settings, each on a server of its own."""

from __future__ import annotations

import asyncio
import time

import jwt
import pytest
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError

from tests.conftest import BACKENDS, ServerFactory
from tests.support.client import LOG_IN, PASSWORD, SIGN_UP, GraphQLClient, log_in, sign_up
from tests.support.server import run_cli
from tests.support.sockets import socket_transport
from ticketing.auth.service import USER_ROW_MAX_AGE_SECONDS

ME = "query { me { id email role } }"
REFRESH = "mutation { refreshToken { accessToken } }"

pytestmark = pytest.mark.parametrize("backend", BACKENDS)


async def test_throttling_per_client_address_spans_emails(
    make_server: ServerFactory, backend: str
) -> None:
    server = make_server(backend, LOGIN_MAX_FAILURES_PER_ADDRESS="3")
    async with GraphQLClient(server.graphql_url) as client:
        attempts = [
            await client.execute(
                LOG_IN, {"input": {"email": f"nobody{i}@example.com", "password": PASSWORD}}
            )
            for i in range(4)
        ]

    assert [a.codes for a in attempts] == [["UNAUTHENTICATED"]] * 3 + [["RATE_LIMITED"]]


async def test_an_expired_access_token_is_unauthenticated_and_refresh_recovers(
    make_server: ServerFactory, backend: str
) -> None:
    server = make_server(backend, ACCESS_TOKEN_TTL_SECONDS="1")
    async with GraphQLClient(server.graphql_url) as client:
        await sign_up(client, "expiry@example.com")
        await asyncio.sleep(2.1)

        expired = await client.execute(ME)
        refreshed = (await client.execute(REFRESH)).ok()["refreshToken"]
        again = await client.execute(ME, token=refreshed["accessToken"])

    assert expired.codes == ["UNAUTHENTICATED"]
    assert again.ok()["me"]["email"] == "expiry@example.com"


async def test_a_token_that_expires_while_its_socket_is_open_is_refused_from_then_on(
    make_server: ServerFactory, backend: str
) -> None:
    # A verified token is kept and not verified again (auth/tokens.py), but
    # every operation checks its expiry afresh, also on an open socket.
    server = make_server(backend, ACCESS_TOKEN_TTL_SECONDS="2")
    async with GraphQLClient(server.graphql_url) as client:
        await sign_up(client, "socket-expiry@example.com")
    assert client.token is not None
    expires_at = jwt.decode(client.token, options={"verify_signature": False})["exp"]
    transport = socket_transport(server, client.token)
    async with Client(transport=transport) as socket:
        before = await socket.execute(GraphQLRequest(ME))
        await asyncio.sleep(expires_at - time.time() + 0.2)
        with pytest.raises(TransportQueryError) as after:
            await socket.execute(GraphQLRequest(ME))

    assert before["me"]["email"] == "socket-expiry@example.com"
    assert after.value.errors is not None
    assert [e["extensions"]["code"] for e in after.value.errors] == ["UNAUTHENTICATED"]


async def test_the_cookie_follows_the_cookie_settings(
    make_server: ServerFactory, backend: str
) -> None:
    server = make_server(backend, COOKIE_SECURE="true", COOKIE_SAMESITE="strict")
    async with GraphQLClient(server.graphql_url) as client:
        await sign_up(client, "cookie@example.com")
        cookies = client.last_headers.get_list("set-cookie")

    # the refresh token, and the device cookie that marks the browser as known
    assert sorted(cookie.split("=")[0] for cookie in cookies) == ["device", "refresh_token"]
    for cookie in cookies:
        attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
        assert {"httponly", "secure", "samesite=strict", "path=/graphql"} <= attributes


async def test_after_the_grace_a_rotated_refresh_token_revokes_the_session(
    make_server: ServerFactory, backend: str
) -> None:
    # given a refresh token rotated away longer ago than the grace period
    server = make_server(backend, REFRESH_REUSE_GRACE_SECONDS="1")
    async with (
        GraphQLClient(server.graphql_url) as owner,
        GraphQLClient(server.graphql_url) as thief,
    ):
        await sign_up(owner, "grace@example.com")
        stolen = owner.cookies["refresh_token"]
        refreshed = (await owner.execute(REFRESH)).ok()["refreshToken"]
        await asyncio.sleep(1.5)
        # when it is presented again
        thief.cookies.set("refresh_token", stolen, path="/graphql")
        replay = await thief.execute(REFRESH)
        # then it is theft: refused, and the session is gone
        assert replay.codes == ["UNAUTHENTICATED"]
        assert (await owner.execute(ME, token=refreshed["accessToken"])).codes == [
            "UNAUTHENTICATED"
        ]


async def test_sign_up_is_throttled_per_client_address(
    make_server: ServerFactory, backend: str
) -> None:
    # given a limit of 3 sign-ups per address
    server = make_server(backend, SIGNUP_MAX_PER_ADDRESS="3")

    def sign_up_as(email: str, password: str = PASSWORD) -> dict[str, object]:
        return {"input": {"email": email, "password": password, "displayName": "New"}}

    async with GraphQLClient(server.graphql_url) as client:
        # when a typo (costs no hash, counts nothing), 3 sign-ups, and a fourth
        typo = await client.execute(SIGN_UP, sign_up_as("typo@example.com", "short"))
        allowed = [await client.execute(SIGN_UP, sign_up_as(f"n{i}@example.com")) for i in range(3)]
        refused = await client.execute(SIGN_UP, sign_up_as("fourth@example.com"))
        never_made = await client.execute(
            LOG_IN, {"input": {"email": "fourth@example.com", "password": PASSWORD}}
        )

    # then the fourth is RATE_LIMITED with a time to wait, and no account was made
    assert typo.codes == ["BAD_USER_INPUT"]
    assert [r.codes for r in allowed] == [[]] * 3
    assert refused.codes == ["RATE_LIMITED"]
    assert refused.errors[0]["extensions"]["retryAfter"] > 0
    assert never_made.codes == ["UNAUTHENTICATED"]


async def test_sign_up_while_registration_is_closed_is_forbidden(
    make_server: ServerFactory, backend: str
) -> None:
    server = make_server(backend, ADMIN_EMAIL="root@example.com", ADMIN_PASSWORD=PASSWORD)
    async with GraphQLClient(server.graphql_url) as admin:
        await log_in(admin, "root@example.com")
        closed = await admin.execute(
            "mutation { updateConfiguration(input: {registrationOpen: false}) { version } }"
        )
        closed.ok()
    async with GraphQLClient(server.graphql_url) as client:
        result = await client.execute(
            SIGN_UP,
            {"input": {"email": "late@example.com", "password": PASSWORD, "displayName": "Late"}},
        )

    assert result.codes == ["FORBIDDEN"]
    assert result.data is None


async def test_an_admin_made_on_the_command_line_logs_in_as_admin(
    make_server: ServerFactory, backend: str
) -> None:
    server = make_server(backend)
    made = run_cli(
        "create-admin",
        "--email",
        "Boss@Example.com",
        "--password",
        PASSWORD,
        env=server.env,
        cwd=server.workdir,
    )
    assert made.returncode == 0, made.stderr
    async with GraphQLClient(server.graphql_url) as client:
        payload = await log_in(client, "boss@example.com")

    assert payload["user"]["role"] == "ADMIN"
    assert payload["user"]["email"] == "boss@example.com"


async def test_a_role_given_on_the_command_line_reaches_a_signed_in_user_within_seconds(
    make_server: ServerFactory, backend: str
) -> None:
    # Requests authenticate with a user row at most USER_ROW_MAX_AGE_SECONDS old
    # (auth/service.py): the promotion is in force by then, with no new log-in.
    server = make_server(backend)
    async with GraphQLClient(server.graphql_url) as client:
        await sign_up(client, "promoted@example.com")
        before = (await client.execute(ME)).ok()["me"]["role"]
        made = run_cli(
            "create-admin",
            "--email",
            "promoted@example.com",
            "--password",
            PASSWORD,
            env=server.env,
            cwd=server.workdir,
        )
        assert made.returncode == 0, made.stderr
        promoted_at = time.monotonic()
        deadline = promoted_at + USER_ROW_MAX_AGE_SECONDS + 2
        role = before
        while role != "ADMIN" and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            role = (await client.execute(ME)).ok()["me"]["role"]

    assert (before, role) == ("USER", "ADMIN")


async def test_an_admin_from_the_environment_exists_at_first_start(
    make_server: ServerFactory, backend: str
) -> None:
    server = make_server(backend, ADMIN_EMAIL="root@example.com", ADMIN_PASSWORD=PASSWORD)
    async with GraphQLClient(server.graphql_url) as client:
        payload = await log_in(client, "root@example.com")

    assert payload["user"]["role"] == "ADMIN"
