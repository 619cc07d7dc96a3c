"""Log-in throttling that stops guessing without locking the owner out (device cookies).

Failures from browsers new to an account share the per-email limit (5 in the
default window); a browser that logged in to the account before holds a
`device` cookie and has an allowance of its own (10) that nobody else spends.
"""

from __future__ import annotations

from tests.support.client import LOG_IN, PASSWORD, GraphQLClient, Result, sign_up
from tests.support.server import Server

ME = "query { me { email } }"
EMAIL_LIMIT = 5
DEVICE_LIMIT = 10


async def _log_in(client: GraphQLClient, email: str, password: str) -> Result:
    return await client.execute(LOG_IN, {"input": {"email": email, "password": password}})


async def test_failures_from_elsewhere_never_lock_the_owner_out(
    server: Server, unique_email: str
) -> None:
    async with (
        GraphQLClient(server.graphql_url) as owner,
        GraphQLClient(server.graphql_url) as attacker,
        GraphQLClient(server.graphql_url) as new_browser,
    ):
        # given the owner's browser, which signed up, and an attacker who locks the email
        await sign_up(owner, unique_email)
        assert owner.cookies.get("device")
        guesses = [await _log_in(attacker, unique_email, "guess") for _ in range(EMAIL_LIMIT)]
        locked = await _log_in(attacker, unique_email, PASSWORD)

        # when the owner logs in from their browser, and from one new to the account
        owners = await _log_in(owner, unique_email, PASSWORD)
        elsewhere = await _log_in(new_browser, unique_email, PASSWORD)

    # then guessing stopped, even with the right password, but not for the owner's browser
    assert [g.codes for g in guesses] == [["UNAUTHENTICATED"]] * EMAIL_LIMIT
    assert locked.codes == ["RATE_LIMITED"]
    assert owners.ok()["logIn"]["user"]["email"] == unique_email.lower()
    assert elsewhere.codes == ["RATE_LIMITED"]


async def test_a_known_browser_is_throttled_by_its_own_failures_alone(
    server: Server, unique_email: str
) -> None:
    async with (
        GraphQLClient(server.graphql_url) as owner,
        GraphQLClient(server.graphql_url) as other,
    ):
        # given the owner's browser failing as often as it may
        await sign_up(owner, unique_email)
        failures = [await _log_in(owner, unique_email, "typo") for _ in range(DEVICE_LIMIT)]
        # when it tries again, and another browser tries
        again = await _log_in(owner, unique_email, PASSWORD)
        others = await _log_in(other, unique_email, PASSWORD)

    # then the device is limited, and its failures did not lock the email for others
    assert [f.codes for f in failures] == [["UNAUTHENTICATED"]] * DEVICE_LIMIT
    assert again.codes == ["RATE_LIMITED"]
    assert others.ok()["logIn"]["user"]["email"] == unique_email.lower()


async def test_a_device_cookie_proves_nothing_for_another_account(
    server: Server, unique_email: str
) -> None:
    victim = "victim-" + unique_email
    async with (
        GraphQLClient(server.graphql_url) as victims_browser,
        GraphQLClient(server.graphql_url) as attacker,
    ):
        # given an attacker whose browser holds a device cookie of their own account
        await sign_up(victims_browser, victim)
        await sign_up(attacker, unique_email)
        # when they guess the victim's password
        guesses = [await _log_in(attacker, victim, "guess") for _ in range(EMAIL_LIMIT + 1)]

    # then the attacker's cookie gave no allowance for the victim's email
    assert [g.codes for g in guesses] == [["UNAUTHENTICATED"]] * EMAIL_LIMIT + [["RATE_LIMITED"]]
