"""Forged and misused tokens against a real server: each is UNAUTHENTICATED.

Every forgery starts from the claims of a real, live session and changes one
thing, and a control re-signs those claims correctly to show the session is
otherwise good.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest

from tests.support.client import LOG_IN, PASSWORD, GraphQLClient, sign_up
from tests.support.server import TEST_JWT_SECRET, Server

ME = "query { me { email } }"


def _b64(part: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


def _live_claims(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def _forge(claims: dict[str, Any], case: str) -> str:
    now = int(time.time())
    if case == "alg-none":
        return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    if case == "wrong-key":
        return jwt.encode(claims, "another-secret-" + "x" * 40, algorithm="HS256")
    if case == "wrong-audience":
        return jwt.encode({**claims, "aud": "someone-else"}, TEST_JWT_SECRET, algorithm="HS256")
    if case == "wrong-issuer":
        return jwt.encode({**claims, "iss": "evil"}, TEST_JWT_SECRET, algorithm="HS256")
    if case == "expired":
        expired = {**claims, "iat": now - 7200, "exp": now - 3600}
        return jwt.encode(expired, TEST_JWT_SECRET, algorithm="HS256")
    if case == "not-an-access-token":
        return jwt.encode({**claims, "typ": "refresh"}, TEST_JWT_SECRET, algorithm="HS256")
    if case == "hs512":
        return jwt.encode(claims, TEST_JWT_SECRET, algorithm="HS512")
    raise AssertionError(case)


FORGERIES = [
    "alg-none",
    "wrong-key",
    "wrong-audience",
    "wrong-issuer",
    "expired",
    "not-an-access-token",
    "hs512",
]


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # the HS512 forgery
@pytest.mark.parametrize("case", FORGERIES)
async def test_a_forged_token_is_unauthenticated(
    client: GraphQLClient, unique_email: str, case: str
) -> None:
    # given a live session, and its claims re-signed correctly (the control)
    await sign_up(client, unique_email)
    assert client.token is not None
    claims = _live_claims(client.token)
    control = jwt.encode(claims, TEST_JWT_SECRET, algorithm="HS256")
    assert (await client.execute(ME, token=control)).ok()["me"] is not None

    # when one thing is changed
    result = await client.execute(ME, token=_forge(claims, case))

    # then the server refuses it
    assert result.codes == ["UNAUTHENTICATED"]
    assert result.data == {"me": None}


async def test_a_tampered_payload_is_unauthenticated(
    client: GraphQLClient, unique_email: str
) -> None:
    # given a real token, whose payload now names another user
    await sign_up(client, unique_email)
    assert client.token is not None
    header, _, signature = client.token.split(".")
    claims = _live_claims(client.token)
    tampered = f"{header}.{_b64({**claims, 'sub': '1'})}.{signature}"

    result = await client.execute(ME, token=tampered)

    assert result.codes == ["UNAUTHENTICATED"]


async def test_the_refresh_token_cannot_be_used_as_an_access_token(
    client: GraphQLClient, unique_email: str
) -> None:
    await sign_up(client, unique_email)

    result = await client.execute(ME, token=client.cookies["refresh_token"])

    assert result.codes == ["UNAUTHENTICATED"]


BATCHED_LOG_INS = (
    "mutation Batch($email: String!, $password: String!) {\n"
    + "\n".join(
        f"  a{n}: logIn(input: {{email: $email, password: $password}}) {{ accessToken }}"
        for n in range(12)
    )
    + "\n}"
)


async def test_throttling_holds_against_log_ins_batched_as_aliases(
    client: GraphQLClient, server: Server, unique_email: str
) -> None:
    # given an account, and a browser new to it that tries twelve passwords at once
    await sign_up(client, unique_email)
    variables = {"email": unique_email, "password": "not the password"}

    async with GraphQLClient(server.graphql_url) as guesser:
        # when the request is sent again and again
        batches = [await guesser.execute(BATCHED_LOG_INS, variables) for _ in range(6)]
        right = await guesser.execute(
            LOG_IN, {"input": {"email": unique_email, "password": PASSWORD}}
        )

    # then each batch stops at its first failed log-in (logIn is non-null, so the
    # failure ends the mutation), every attempt counts, and the sixth is throttled
    codes = [[error["extensions"]["code"] for error in batch.errors] for batch in batches]
    assert codes == [["UNAUTHENTICATED"]] * 5 + [["RATE_LIMITED"]]
    assert all(batch.data is None for batch in batches)
    # and the right password is throttled too, until the window passes
    assert right.codes == ["RATE_LIMITED"]
