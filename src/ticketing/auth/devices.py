"""Device cookies (OWASP): proof that a browser logged in to an account before.

A successful log-in gives the browser a cookie `<device id>.<signature>`, the
signature binding that id to the account's email key with a key derived from
JWT_SECRET. Log-in attempts that present a valid one for the email they try
count against that device's own allowance (auth/throttle.py), so failures
from elsewhere cannot lock its owner out. The cookie grants nothing else: it
is not a credential, only a claim to a separate attempt counter.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field

DEVICE_COOKIE = "device"
# A device is remembered for a year from its last successful log-in.
DEVICE_COOKIE_MAX_AGE_SECONDS = 365 * 24 * 3600
_DEVICE_ID = re.compile(r"[A-Za-z0-9_-]{22}")
_SIGNATURE = re.compile(r"[A-Za-z0-9_-]{43}")  # SHA-256, base64url without padding
_KEY_LABEL = b"ticketing device cookie v1"


@dataclass(frozen=True, slots=True)
class DeviceCookies:
    secret: str = field(repr=False)

    @property
    def _key(self) -> bytes:
        # Its own key, so a device signature can never stand for anything else.
        return hmac.new(self.secret.encode(), _KEY_LABEL, hashlib.sha256).digest()

    def _signature(self, device_id: str, email_key: str) -> str:
        mac = hmac.new(self._key, f"{device_id}:{email_key}".encode(), hashlib.sha256)
        return base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")

    def issue(self, email_key: str) -> str:
        """A new device cookie for the account with this email key."""
        device_id = secrets.token_urlsafe(16)
        return f"{device_id}.{self._signature(device_id, email_key)}"

    def device_of(self, cookie: str | None, email_key: str) -> str | None:
        """The device id, if `cookie` is a device cookie issued for this email key."""
        if not cookie:
            return None
        device_id, _, signature = cookie.partition(".")
        if not _DEVICE_ID.fullmatch(device_id) or not _SIGNATURE.fullmatch(signature):
            return None
        expected = self._signature(device_id, email_key)
        return device_id if hmac.compare_digest(signature, expected) else None
