"""Device cookies: a cookie proves a log-in to one account, nothing else."""

from __future__ import annotations

import pytest

from ticketing.auth.devices import DeviceCookies
from ticketing.users.emails import email_key

SECRET = "device-cookie-test-secret-0123456789abcdef"
OWNER = email_key("owner@example.com")


def test_a_cookie_names_its_device_for_the_account_it_was_issued_for() -> None:
    devices = DeviceCookies(SECRET)
    cookie = devices.issue(OWNER)

    device = devices.device_of(cookie, OWNER)

    assert device is not None
    assert cookie.startswith(device + ".")
    assert devices.device_of(devices.issue(OWNER), OWNER) != device  # each log-in, a new device id


def test_a_cookie_is_no_proof_for_another_account_or_under_another_key() -> None:
    cookie = DeviceCookies(SECRET).issue(OWNER)

    assert DeviceCookies(SECRET).device_of(cookie, email_key("other@example.com")) is None
    assert DeviceCookies(SECRET + "-rotated").device_of(cookie, OWNER) is None


@pytest.mark.parametrize(
    "forged",
    [
        None,
        "",
        "no-dot-at-all",
        "A" * 22 + "." + "B" * 43,  # well-formed, wrong signature
        "A" * 22 + ".",
        "\ud800" * 22 + "." + "\ud800" * 43,  # not even ASCII
        "A" * 22 + "." + "é" * 43,
        "A" * 5000,
    ],
)
def test_a_forged_or_malformed_cookie_names_no_device(forged: str | None) -> None:
    assert DeviceCookies(SECRET).device_of(forged, OWNER) is None
