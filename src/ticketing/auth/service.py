"""Authentication rules: sign-up, log-in, refresh rotation, log-out, and token checks."""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass, field
from functools import partial

from ticketing.activity import service as activity
from ticketing.activity.models import LogLevel
from ticketing.auth.devices import DeviceCookies
from ticketing.auth.passwords import hash_password, needs_rehash, verify_password
from ticketing.auth.sessions import Rotation, SessionStore
from ticketing.auth.throttle import LoginThrottle, SignUpThrottle
from ticketing.auth.tokens import (
    IssuedAccessToken,
    RefreshSuccession,
    RefreshToken,
    TokenCodec,
    new_refresh_token,
    new_session_id,
)
from ticketing.configuration import service as configuration
from ticketing.errors import Forbidden, Unauthenticated
from ticketing.realtime import channels
from ticketing.realtime.broker import Broker
from ticketing.realtime.outbox import change
from ticketing.realtime.shared_reads import SharedReads
from ticketing.users import service as users
from ticketing.users.emails import email_key
from ticketing.users.models import User

logger = logging.getLogger(__name__)

WRONG_CREDENTIALS = "Wrong email or password."
SESSION_ENDED = "The session has ended. Log in again."
# How old a user row that authenticates a request may be: a change to a user
# (a role given by `create-admin`) is in force everywhere within this time.
USER_ROW_MAX_AGE_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class SignedIn:
    user: User
    access: IssuedAccessToken
    refresh_token: RefreshToken
    # A new device cookie (auth/devices.py) when the user proved their password.
    device_cookie: str | None = None


@dataclass(frozen=True, slots=True)
class Principal:
    """The signed-in user behind a request, and the session their token names."""

    user: User
    session_id: str


@dataclass(frozen=True, slots=True)
class AuthService:
    sessions: SessionStore
    throttle: LoginThrottle
    signups: SignUpThrottle
    codec: TokenCodec
    succession: RefreshSuccession
    devices: DeviceCookies
    refresh_ttl_seconds: int
    refresh_reuse_grace_seconds: float
    broker: Broker
    reads: SharedReads = field(default_factory=SharedReads)

    async def sign_up(
        self, *, email: str, password: str, display_name: str, client_address: str
    ) -> SignedIn:
        """Create a USER and sign them in; FORBIDDEN while registration is closed.

        Throttled per client address, once the input is valid: each sign-up
        costs a password hash, and a typo costs nothing.
        """
        if not (await configuration.current()).registration_open:
            raise Forbidden("Registration is closed.")
        users.validate_new_user(email=email, password=password, display_name=display_name)
        await self.signups.attempt(address=client_address)
        async with change(self.broker) as work:
            user = await users.create_user(
                email=email,
                password=password,
                display_name=display_name,
                connection=work.connection,
            )
            await activity.record(
                work,
                level=LogLevel.INFO,
                event="user.signed_up",
                message=f"User {user.id} signed up.",
                actor=user,
            )
        return await self._start_session(user)

    async def log_in(
        self, *, email: str, password: str, client_address: str, device_cookie: str | None = None
    ) -> SignedIn:
        """Check the credentials, throttled per device the account knows, else per email
        and per client address (auth/throttle.py)."""
        key = email_key(email)
        device = self.devices.device_of(device_cookie, key)
        await self.throttle.attempt(email_key=key, address=client_address, device=device)
        user = await users.by_email(email)
        if not await verify_password(user.password_hash if user else None, password):
            async with change(self.broker) as work:
                await activity.record(
                    work,
                    level=LogLevel.WARNING,
                    event="auth.login_failed",
                    message="Log-in failed: wrong email or password.",
                    actor=user,
                )
            raise Unauthenticated(WRONG_CREDENTIALS)
        assert user is not None  # verify_password is False without a hash
        await self.throttle.succeeded(email_key=key, address=client_address, device=device)
        if needs_rehash(user.password_hash):
            user.password_hash = await hash_password(password)
            await user.save(update_fields=["password_hash"])
        async with change(self.broker) as work:
            await activity.record(
                work,
                level=LogLevel.INFO,
                event="auth.logged_in",
                message=f"User {user.id} logged in.",
                actor=user,
            )
        return await self._start_session(user)

    async def refresh(self, *, raw_refresh_token: str | None) -> SignedIn:
        """Rotate the refresh token; a token already rotated away revokes the session,
        unless it was rotated within the grace period (then its successor again)."""
        presented = RefreshToken.parse(raw_refresh_token) if raw_refresh_token else None
        if presented is None:
            raise Unauthenticated("No valid refresh token. Log in again.")
        successor = self.succession.successor(presented)
        result = await self.sessions.rotate(
            session_id=presented.session_id,
            presented_digest=presented.digest,
            successor_digest=successor.digest,
            ttl_seconds=self.refresh_ttl_seconds,
            grace_seconds=self.refresh_reuse_grace_seconds,
        )
        if result.outcome is Rotation.REUSED:
            await self._announce_revoked(presented.session_id)
            async with change(self.broker) as work:
                await activity.record(
                    work,
                    level=LogLevel.WARNING,
                    event="auth.refresh_reused",
                    message="A rotated refresh token was presented again; the session was revoked.",
                    actor=await User.get_or_none(id=result.user_id) if result.user_id else None,
                )
            raise Unauthenticated("This refresh token was already used. Log in again.")
        user = await User.get_or_none(id=result.user_id) if result.user_id else None
        if result.outcome not in (Rotation.ROTATED, Rotation.RETRIED) or user is None:
            raise Unauthenticated("No valid refresh token. Log in again.")
        access = self.codec.issue(user_id=user.id, session_id=presented.session_id)
        return SignedIn(user=user, access=access, refresh_token=successor)

    async def log_out(self, *, access_token: str | None, raw_refresh_token: str | None) -> None:
        """End the session named by the access token and the one the refresh cookie proves.

        A session id alone proves nothing (every access token shows it): the
        cookie's session ends only if the session issued that cookie's secret.
        """
        ended: set[str] = set()
        if access_token:
            # An expired or forged access token names no session we can trust.
            with contextlib.suppress(Unauthenticated):
                session_id = self.codec.decode(access_token).session_id
                await self.sessions.revoke(session_id)
                ended.add(session_id)
        presented = RefreshToken.parse(raw_refresh_token) if raw_refresh_token else None
        if (
            presented is not None
            and presented.session_id not in ended
            and await self.sessions.revoke_presented(presented.session_id, presented.digest)
        ):
            ended.add(presented.session_id)
        for session_id in ended:
            await self._announce_revoked(session_id)

    async def _announce_revoked(self, session_id: str) -> None:
        """End the session's open subscriptions, on every instance."""
        try:
            await self.broker.publish(channels.session(session_id), "revoked")
        except Exception:
            # The session is gone from the store all the same; subscriptions then
            # end at their next session check.
            logger.warning("Could not announce the end of a session", exc_info=True)

    async def authenticate(self, access_token: str) -> Principal:
        """The principal behind a bearer token; UNAUTHENTICATED unless its session lives."""
        claims = self.codec.decode(access_token)
        session_user = await self.sessions.user_of(claims.session_id)
        if session_user is None or session_user != claims.user_id:
            raise Unauthenticated(SESSION_ENDED)
        # The session is checked every time (log-out is immediate); the user
        # row may be a few seconds old (USER_ROW_MAX_AGE_SECONDS), shared by the
        # requests and sockets of this process that ask for it meanwhile.
        user = await self.reads.get(
            ("user", claims.user_id),
            time.monotonic() - USER_ROW_MAX_AGE_SECONDS,
            partial(User.get_or_none, id=claims.user_id),
        )
        if user is None:
            raise Unauthenticated(SESSION_ENDED)
        return Principal(user=user, session_id=claims.session_id)

    async def _start_session(self, user: User) -> SignedIn:
        session_id = new_session_id()
        refresh = new_refresh_token(session_id)
        await self.sessions.create(
            session_id=session_id,
            user_id=user.id,
            refresh_digest=refresh.digest,
            ttl_seconds=self.refresh_ttl_seconds,
        )
        access = self.codec.issue(user_id=user.id, session_id=session_id)
        device_cookie = self.devices.issue(user.email_key)
        return SignedIn(
            user=user, access=access, refresh_token=refresh, device_cookie=device_cookie
        )
