"""One email, one identity: log-in, uniqueness and throttling agree on which emails are one.

Case, width and compatibility forms are one identity (NFKC and case folding);
accents are not. The database's collation decides nothing: the test databases
use utf8mb4_unicode_ci, which calls `josé` and `jose` (and full-width and
plain letters) the same.
"""

from __future__ import annotations

import uuid

from tests.support.client import LOG_IN, PASSWORD, SIGN_UP, GraphQLClient, Result, sign_up
from tests.support.server import Server


def _wide(text: str) -> str:
    """ASCII letters and digits as their full-width forms (U+FF01 onwards)."""
    return "".join(chr(ord(ch) + 0xFEE0) if ch.isascii() and ch.isalnum() else ch for ch in text)


def _address(local: str) -> str:
    return f"{local}.{uuid.uuid4().hex[:8]}@example.com"


async def _log_in(client: GraphQLClient, email: str, password: str = PASSWORD) -> Result:
    return await client.execute(LOG_IN, {"input": {"email": email, "password": password}})


async def _sign_up(client: GraphQLClient, email: str) -> Result:
    variables = {"input": {"email": email, "password": PASSWORD, "displayName": "Twin"}}
    return await client.execute(SIGN_UP, variables)


async def test_case_and_width_variants_are_the_same_account(server: Server) -> None:
    email = _address("emile")
    async with GraphQLClient(server.graphql_url) as client:
        # given an account
        user_id = (await sign_up(client, email))["user"]["id"]
        # when its email is written in capitals and full-width letters
        variant = _wide(email.upper())
        logged_in = await _log_in(client, variant)
        taken = await _sign_up(client, variant)

    # then it logs in to that account, and cannot be signed up again
    assert logged_in.ok()["logIn"]["user"]["id"] == user_id
    assert taken.codes == ["CONFLICT"]


async def test_an_accented_variant_is_another_identity(server: Server) -> None:
    accented = _address("josé")
    plain = accented.replace("é", "e")
    async with GraphQLClient(server.graphql_url) as client:
        # given an account with an accent in its email
        owner_id = (await sign_up(client, accented))["user"]["id"]
        # when the email without the accent logs in with the right password, or signs up
        wrong_account = await _log_in(client, plain)
        other = await _sign_up(client, plain)

    # then it is not that account: another identity, free to sign up
    assert wrong_account.codes == ["UNAUTHENTICATED"]
    assert other.ok()["signUp"]["user"]["id"] != owner_id


async def test_every_spelling_of_one_identity_counts_against_one_limit(server: Server) -> None:
    email = _address("straße")
    spellings = [
        email,
        email.upper(),  # STRASSE: upper case has no ß
        email.replace("ß", "ss"),
        _wide(email),
        _wide(email.upper()),
        email.title(),
    ]
    async with (
        GraphQLClient(server.graphql_url) as owner,
        GraphQLClient(server.graphql_url) as guesser,
    ):
        await sign_up(owner, email)
        # when a browser new to the account guesses once with each spelling
        guesses = [await _log_in(guesser, spelling, "guess") for spelling in spellings[:5]]
        sixth = await _log_in(guesser, spellings[5], PASSWORD)

    # then the five failures add up, and the sixth spelling finds the limit
    assert [g.codes for g in guesses] == [["UNAUTHENTICATED"]] * 5
    assert sixth.codes == ["RATE_LIMITED"]
