"""Access-token codec against forgeries, and the opaque refresh-token format."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from ticketing.auth import tokens
from ticketing.auth.tokens import (
    RefreshSuccession,
    RefreshToken,
    TokenCodec,
    new_refresh_token,
    new_session_id,
)
from ticketing.errors import Unauthenticated

SECRET = "unit-test-secret-" + "k" * 48  # 64 bytes: long enough even for HS512
CODEC = TokenCodec(secret=SECRET, issuer="ticketing", audience="ticketing-api", ttl_seconds=900)


def _b64(data: dict[str, object]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _claims(**overrides: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": "ticketing",
        "aud": "ticketing-api",
        "sub": "7",
        "sid": "session-1",
        "jti": "jti-1",
        "iat": now,
        "exp": now + 600,
        "typ": "access",
    }
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


def _signed(claims: dict[str, object], key: str = SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=algorithm)


def test_issue_and_decode_round_trip() -> None:
    # given
    before = datetime.now(UTC)
    # when
    issued = CODEC.issue(user_id=7, session_id="session-1")
    claims = CODEC.decode(issued.token)
    # then
    assert (claims.user_id, claims.session_id) == (7, "session-1")
    expected = before + timedelta(seconds=900)
    assert abs((issued.expires_at - expected).total_seconds()) <= 2


def test_a_hand_built_valid_token_decodes() -> None:
    # the control for the forgeries below: only the one change makes them fail
    assert CODEC.decode(_signed(_claims())).user_id == 7


def test_alg_none_is_rejected() -> None:
    # given
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims())}."
    # when / then
    with pytest.raises(Unauthenticated):
        CODEC.decode(token)


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(_signed(_claims(), key="another-secret-" + "x" * 49), id="key"),
        pytest.param(_signed(_claims(aud="someone-else")), id="aud"),
        pytest.param(_signed(_claims(iss="evil-issuer")), id="iss"),
        pytest.param(_signed(_claims(exp=int(time.time()) - 60)), id="expired"),
        pytest.param(_signed(_claims(sid=None)), id="no-sid"),
        pytest.param(_signed(_claims(jti=None)), id="no-jti"),
        pytest.param(_signed(_claims(typ=None)), id="no-typ"),
        pytest.param(_signed(_claims(typ="refresh")), id="refresh-typ"),
        pytest.param(_signed(_claims(sid=123)), id="sid-not-str"),
        pytest.param(_signed(_claims(sub="not-a-number")), id="sub-not-int"),
        pytest.param(_signed(_claims(), algorithm="HS512"), id="hs512"),
    ],
)
def test_forged_or_invalid_tokens_are_rejected(token: str) -> None:
    with pytest.raises(Unauthenticated):
        CODEC.decode(token)


def test_rs256_header_is_rejected() -> None:
    # given an HMAC signature under a header that claims RS256
    signing_input = f"{_b64({'alg': 'RS256', 'typ': 'JWT'})}.{_b64(_claims())}"
    valid = _signed(_claims()).split(".")[2]
    # when / then
    with pytest.raises(Unauthenticated):
        CODEC.decode(f"{signing_input}.{valid}")


def test_tampered_payload_is_rejected() -> None:
    # given
    header, payload, signature = CODEC.issue(user_id=7, session_id="s").token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "1"
    # when / then
    with pytest.raises(Unauthenticated):
        CODEC.decode(f"{header}.{_b64(claims)}.{signature}")


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "garbage",
        "a.b.c",
        "...",
        "eyJhbGciOiJIUzI1NiJ9..",
        "é.é.é",
        # PyJWT raised UnicodeEncodeError on this (an unexpected error, not UNAUTHENTICATED)
        "\ud800.\ud800.\ud800",
        "a." * 3000 + "b",
    ],
)
def test_garbage_is_rejected(garbage: str) -> None:
    with pytest.raises(Unauthenticated):
        CODEC.decode(garbage)


def test_refresh_token_round_trips_through_str() -> None:
    # given
    token = new_refresh_token(new_session_id())
    # when
    parsed = RefreshToken.parse(str(token))
    # then
    assert parsed == token


@pytest.mark.parametrize(
    "raw",
    ["no-dot-here", ".secret", "session.", ".", "", "s." + "x" * 255],
)
def test_refresh_token_parse_rejects_malformed(raw: str) -> None:
    assert RefreshToken.parse(raw) is None


def test_refresh_token_parts_at_the_length_limit_parse() -> None:
    assert RefreshToken.parse("s." + "x" * 128) == RefreshToken("s", "x" * 128)
    assert RefreshToken.parse("s." + "x" * 129) is None


@pytest.mark.parametrize("raw", ["abc:spent.secret", "a b.secret", "sid.se/cret", "sid.sec.ret"])
def test_refresh_token_outside_the_url_safe_alphabet_is_refused(raw: str) -> None:
    # A ":" in the session id would name another session's store key.
    assert RefreshToken.parse(raw) is None


def test_a_refresh_token_s_successor_is_the_same_each_time_and_only_with_the_key() -> None:
    # given
    token = new_refresh_token(new_session_id())
    succession = RefreshSuccession(SECRET)
    # when
    successor = succession.successor(token)
    # then: a token of the same session, that parses, and that no one derives without the key
    assert succession.successor(token) == successor
    assert RefreshToken.parse(str(successor)) == successor
    assert successor.session_id == token.session_id
    assert successor.secret != token.secret
    assert RefreshSuccession(SECRET + "x").successor(token) != successor
    assert succession.successor(successor) not in (token, successor)


def test_refresh_digest_is_sha256_hex_of_the_secret() -> None:
    # given
    token = new_refresh_token(new_session_id())
    # when
    digest = token.digest
    # then
    assert digest == hashlib.sha256(token.secret.encode()).hexdigest()
    assert len(digest) == 64
    assert digest != token.secret
    assert digest != new_refresh_token(token.session_id).digest


class CountedVerifications:
    """Counts the real signature checks (`jwt.decode` calls) a codec makes."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = jwt.decode

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(tokens.jwt, "decode", counted)


def _fresh_codec() -> TokenCodec:
    return TokenCodec(secret=SECRET, issuer="ticketing", audience="ticketing-api", ttl_seconds=900)


def test_a_verified_token_is_not_verified_again_until_it_expires(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    codec = _fresh_codec()
    verifications = CountedVerifications(monkeypatch)
    token = _signed(_claims(exp=int(time.time()) + 60))

    first, again = codec.decode(token), codec.decode(token)
    assert verifications.count == 1
    assert again == first

    # once its `exp` has passed, the kept claims are refused as PyJWT would refuse them
    later = time.time() + 61
    monkeypatch.setattr(tokens.time, "time", lambda: later)
    with pytest.raises(Unauthenticated):
        codec.decode(token)


def test_forged_tokens_are_never_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    codec = _fresh_codec()
    verifications = CountedVerifications(monkeypatch)
    forged = _signed(_claims(), key="another-secret-" + "x" * 48)

    for _ in range(2):
        with pytest.raises(Unauthenticated):
            codec.decode(forged)
    assert verifications.count == 2


def test_the_tokens_kept_are_bounded_oldest_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "VERIFIED_TOKENS_KEPT", 2)
    codec = _fresh_codec()
    verifications = CountedVerifications(monkeypatch)
    oldest, middle, newest = (_signed(_claims(jti=f"jti-{n}")) for n in range(3))

    for token in (oldest, middle, newest, newest, middle):
        codec.decode(token)
    assert verifications.count == 3
    codec.decode(oldest)
    assert verifications.count == 4
