"""Access tokens (JWT, HS256) and the opaque refresh tokens that name a session."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import jwt

from ticketing.bounded import keep
from ticketing.errors import Unauthenticated

ALGORITHM = "HS256"
ACCESS_TOKEN_TYPE = "access"  # noqa: S105  (a claim value, not a secret)
_TOKEN_PART = re.compile(r"[A-Za-z0-9_-]{1,128}")
# A JWS in compact form: three base64url parts (RFC 7515 7.1).
_COMPACT_JWT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
MAX_ACCESS_TOKEN_LENGTH = 4096
_REQUIRED_CLAIMS = ["iss", "aud", "exp", "iat", "sub", "sid", "jti", "typ"]
INVALID_OR_EXPIRED = "The access token is invalid or has expired."
# Tokens verified lately, kept so that a client's next request (or its socket's
# first subscription right after connection_init) is not verified again.
VERIFIED_TOKENS_KEPT = 4096
_SUCCESSOR_KEY_LABEL = b"ticketing refresh successor v1"


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: int
    session_id: str
    expires_at: int  # `exp`, seconds since the epoch


@dataclass(frozen=True, slots=True)
class IssuedAccessToken:
    token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class TokenCodec:
    secret: str
    issuer: str
    audience: str
    ttl_seconds: int
    # token -> its claims, for tokens whose signature and claims were verified
    # (what a token says cannot change; only its expiry is checked again).
    _verified: dict[str, AccessClaims] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def issue(self, *, user_id: int, session_id: str) -> IssuedAccessToken:
        now = datetime.now(UTC).replace(microsecond=0)
        expires_at = now + timedelta(seconds=self.ttl_seconds)
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": str(user_id),
            "sid": session_id,
            "jti": uuid.uuid4().hex,
            "iat": now,
            "exp": expires_at,
            # A claim of our own that only access tokens carry: a refresh token (or
            # any other JWT signed with this key) can never pass as one (RFC 8725 3.11).
            "typ": ACCESS_TOKEN_TYPE,
        }
        token = jwt.encode(claims, self.secret, algorithm=ALGORITHM, headers={"typ": "at+jwt"})
        return IssuedAccessToken(token=token, expires_at=expires_at)

    def decode(self, token: str) -> AccessClaims:
        """Verify signature, algorithm, issuer, audience, expiry and type, or raise."""
        if len(token) > MAX_ACCESS_TOKEN_LENGTH or not _COMPACT_JWT.fullmatch(token):
            # Not even shaped like a token (PyJWT fails on text it cannot encode).
            raise Unauthenticated(INVALID_OR_EXPIRED)
        claims = self._verified.get(token)
        if claims is None:
            claims = keep(self._verified, token, self._verify(token), VERIFIED_TOKENS_KEPT)
        elif time.time() >= claims.expires_at:  # as PyJWT's own expiry check
            del self._verified[token]
            raise Unauthenticated(INVALID_OR_EXPIRED)
        return claims

    def _verify(self, token: str) -> AccessClaims:
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": _REQUIRED_CLAIMS},
            )
        except jwt.PyJWTError:
            raise Unauthenticated(INVALID_OR_EXPIRED) from None
        if claims["typ"] != ACCESS_TOKEN_TYPE or not isinstance(claims["sid"], str):
            raise Unauthenticated(INVALID_OR_EXPIRED)
        try:
            user_id = int(claims["sub"])
        except (TypeError, ValueError):
            raise Unauthenticated(INVALID_OR_EXPIRED) from None
        return AccessClaims(
            user_id=user_id, session_id=claims["sid"], expires_at=int(claims["exp"])
        )


@dataclass(frozen=True, slots=True)
class RefreshToken:
    """`<session id>.<secret>`: the session id finds the session, the secret proves it."""

    session_id: str
    secret: str

    def __str__(self) -> str:
        return f"{self.session_id}.{self.secret}"

    @property
    def digest(self) -> str:
        # Only this digest is stored: a leaked session store yields no usable token.
        return hash_secret(self.secret)

    @classmethod
    def parse(cls, raw: str) -> RefreshToken | None:
        # Only the URL-safe alphabet our ids and secrets are made of: the session
        # id becomes part of a store key, where ":" could name another key.
        if len(raw) > 256:
            return None
        session_id, dot, secret = raw.partition(".")
        if not dot or not _TOKEN_PART.fullmatch(session_id) or not _TOKEN_PART.fullmatch(secret):
            return None
        return cls(session_id=session_id, secret=secret)


@dataclass(frozen=True, slots=True)
class RefreshSuccession:
    """The token that replaces a refresh token when it is rotated.

    Derived from the token with a key of its own (from JWT_SECRET), not drawn
    at random: a second refresh with the same token within the grace period
    (auth/sessions.py) is answered with the same successor, on any instance,
    without the session store holding a refresh secret. Without the key, a
    token says nothing about its successor.
    """

    secret: str = field(repr=False)

    def successor(self, token: RefreshToken) -> RefreshToken:
        key = hmac.new(self.secret.encode(), _SUCCESSOR_KEY_LABEL, hashlib.sha256).digest()
        mac = hmac.new(key, str(token).encode(), hashlib.sha256).digest()
        secret = base64.urlsafe_b64encode(mac).decode().rstrip("=")
        return RefreshToken(session_id=token.session_id, secret=secret)


def new_session_id() -> str:
    return secrets.token_urlsafe(18)


def new_refresh_token(session_id: str) -> RefreshToken:
    return RefreshToken(session_id=session_id, secret=secrets.token_urlsafe(32))


def hash_secret(secret: str) -> str:
    # A fast hash is right here: the secret is 256 random bits, not a password.
    return hashlib.sha256(secret.encode()).hexdigest()
