"""Throttles: log-in per email, address and known device; sign-up per address."""

from __future__ import annotations

import asyncio

import pytest

from ticketing.auth.throttle import AttemptCounter, LoginThrottle, SignUpThrottle
from ticketing.errors import RateLimited


def _throttle(
    counter: AttemptCounter,
    *,
    per_email: int = 3,
    per_address: int = 100,
    per_device: int = 3,
    window: int = 60,
) -> LoginThrottle:
    return LoginThrottle(
        counter=counter,
        max_per_email=per_email,
        max_per_address=per_address,
        max_per_device=per_device,
        window_seconds=window,
    )


async def test_fourth_attempt_for_one_email_is_rate_limited(
    attempt_counter: AttemptCounter,
) -> None:
    # given
    throttle = _throttle(attempt_counter, per_email=3)
    for _ in range(3):
        await throttle.attempt(email_key="alice@example.com", address="10.0.0.1")
    # when
    with pytest.raises(RateLimited) as raised:
        await throttle.attempt(email_key="alice@example.com", address="10.0.0.1")
    # then
    assert raised.value.code == "RATE_LIMITED"
    assert 0 < raised.value.retry_after_seconds <= 60
    await throttle.attempt(email_key="bob@example.com", address="10.0.0.2")


async def test_address_limit_trips_across_emails(attempt_counter: AttemptCounter) -> None:
    # given
    throttle = _throttle(attempt_counter, per_email=100, per_address=3)
    for i in range(3):
        await throttle.attempt(email_key=f"user{i}@example.com", address="10.0.0.9")
    # when / then
    with pytest.raises(RateLimited) as raised:
        await throttle.attempt(email_key="fresh@example.com", address="10.0.0.9")
    assert raised.value.retry_after_seconds > 0
    await throttle.attempt(email_key="fresh@example.com", address="10.0.0.10")


async def test_successful_log_ins_are_forgiven(attempt_counter: AttemptCounter) -> None:
    # given
    throttle = _throttle(attempt_counter, per_email=3, per_address=3)
    # when
    for _ in range(10):
        await throttle.attempt(email_key="carol@example.com", address="10.0.0.3")
        await throttle.succeeded(email_key="carol@example.com", address="10.0.0.3")
    # then the failures still count: three more pass, the fourth does not
    for _ in range(3):
        await throttle.attempt(email_key="carol@example.com", address="10.0.0.3")
    with pytest.raises(RateLimited):
        await throttle.attempt(email_key="carol@example.com", address="10.0.0.3")


async def test_window_resets(attempt_counter: AttemptCounter) -> None:
    # given
    throttle = _throttle(attempt_counter, per_email=1, window=1)
    await throttle.attempt(email_key="dave@example.com", address="10.0.0.4")
    with pytest.raises(RateLimited):
        await throttle.attempt(email_key="dave@example.com", address="10.0.0.4")
    # when
    await asyncio.sleep(1.2)
    # then
    await throttle.attempt(email_key="dave@example.com", address="10.0.0.4")


async def test_concurrent_attempts_are_counted_atomically(attempt_counter: AttemptCounter) -> None:
    # given
    throttle = _throttle(attempt_counter, per_email=3)
    # when
    results = await asyncio.gather(
        *(throttle.attempt(email_key="eve@example.com", address="10.0.0.5") for _ in range(10)),
        return_exceptions=True,
    )
    # then
    assert sum(result is None for result in results) == 3
    assert sum(isinstance(result, RateLimited) for result in results) == 7


async def test_forgiving_after_the_window_expired_grants_no_extra_attempt(
    attempt_counter: AttemptCounter,
) -> None:
    # given an attempt whose window ran out before the log-in was forgiven
    throttle = _throttle(attempt_counter, per_email=2, window=1)
    await throttle.attempt(email_key="late@example.com", address="10.0.0.9")
    await asyncio.sleep(1.2)
    await throttle.succeeded(email_key="late@example.com", address="10.0.0.9")
    # when the next window is used up
    for _ in range(2):
        await throttle.attempt(email_key="late@example.com", address="10.0.0.9")
    # then the limit holds: the late forgiveness left no credit behind
    with pytest.raises(RateLimited):
        await throttle.attempt(email_key="late@example.com", address="10.0.0.9")


async def test_a_known_device_keeps_its_own_allowance_when_the_email_is_locked(
    attempt_counter: AttemptCounter,
) -> None:
    # given an email locked by failures from unknown clients (an attacker)
    throttle = _throttle(attempt_counter, per_email=3, per_device=3)
    for _ in range(3):
        await throttle.attempt(email_key="owner", address="203.0.113.7")
    with pytest.raises(RateLimited):
        await throttle.attempt(email_key="owner", address="198.51.100.1")
    # when the owner's browser, known to the account, tries from the same address
    # then its attempts count apart and pass
    for _ in range(3):
        await throttle.attempt(email_key="owner", address="203.0.113.7", device="owners-browser")


async def test_a_known_device_is_throttled_by_its_own_failures(
    attempt_counter: AttemptCounter,
) -> None:
    # given a device that failed as often as it may
    throttle = _throttle(attempt_counter, per_email=100, per_device=2)
    for _ in range(2):
        await throttle.attempt(email_key="owner", address="10.0.0.1", device="stolen-cookie")
    # when it tries again, then it is refused, while the email's other clients are not
    with pytest.raises(RateLimited):
        await throttle.attempt(email_key="owner", address="10.0.0.1", device="stolen-cookie")
    await throttle.attempt(email_key="owner", address="10.0.0.1", device="other-browser")
    await throttle.attempt(email_key="owner", address="10.0.0.1")


async def test_sign_ups_are_limited_per_address(attempt_counter: AttemptCounter) -> None:
    # given
    throttle = SignUpThrottle(counter=attempt_counter, max_per_address=2, window_seconds=60)
    await throttle.attempt(address="10.0.0.1")
    await throttle.attempt(address="10.0.0.1")
    # when / then
    with pytest.raises(RateLimited) as raised:
        await throttle.attempt(address="10.0.0.1")
    assert 0 < raised.value.retry_after_seconds <= 60
    await throttle.attempt(address="10.0.0.2")
