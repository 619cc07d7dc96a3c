"""The GraphQL context: who is asking, and the collaborators resolvers hand to services."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.types import Info as StrawberryInfo

from ticketing.auth.devices import DEVICE_COOKIE, DEVICE_COOKIE_MAX_AGE_SECONDS
from ticketing.auth.service import Principal
from ticketing.errors import Unauthenticated
from ticketing.graphql.loaders import Loaders
from ticketing.services import Services
from ticketing.users.models import User

REFRESH_COOKIE = "refresh_token"
COOKIE_PATH = "/graphql"
BEARER_PREFIX = "bearer "


@dataclass
class Context:
    services: Services
    request: Request | WebSocket
    response: Response | None
    loaders: Loaders
    # Filled in by strawberry from the WebSocket `connection_init` payload.
    connection_params: dict[str, object] | None = None
    # Checked once per operation: the context of an HTTP request lives for one;
    # a socket's lives as long as the socket, so every operation that starts on
    # it forgets the answer first (see ws_handlers.py).
    _principal: Principal | None = field(default=None, init=False)

    @property
    def is_websocket(self) -> bool:
        return isinstance(self.request, WebSocket)

    def bearer_token(self) -> str | None:
        """The access token: the Authorization header, or `authorization` in connection_init."""
        if self.is_websocket:
            raw = (self.connection_params or {}).get("authorization")
        else:
            raw = self.request.headers.get("authorization")
        if not isinstance(raw, str) or not raw.strip():
            return None
        if not raw.lower().startswith(BEARER_PREFIX):
            raise Unauthenticated("Send the access token as 'Bearer <token>'.")
        return raw[len(BEARER_PREFIX) :].strip()

    async def principal(self) -> Principal | None:
        """The signed-in principal; None without a token; UNAUTHENTICATED for a bad one.

        The session is checked once per operation, so a logged-out session is
        refused from the next operation on, also on a socket opened before.
        """
        if self._principal is not None:
            return self._principal
        token = self.bearer_token()
        if token is None:
            return None
        self._principal = await self.services.auth.authenticate(token)
        return self._principal

    @property
    def known_viewer(self) -> User | None:
        """The signed-in user if this operation already checked the session, else None."""
        return None if self._principal is None else self._principal.user

    def forget_principal(self) -> None:
        self._principal = None

    async def require_principal(self) -> Principal:
        principal = await self.principal()
        if principal is None:
            raise Unauthenticated("Sign in first.")
        return principal

    async def require_user(self) -> User:
        return (await self.require_principal()).user

    async def viewer_or_none(self) -> User | None:
        """The signed-in user for field visibility; never raises (the operation already did)."""
        try:
            principal = await self.principal()
        except Unauthenticated:
            return None
        return None if principal is None else principal.user

    @property
    def client_address(self) -> str:
        client = self.request.client
        return client.host if client is not None else "unknown"

    def refresh_cookie(self) -> str | None:
        return self.request.cookies.get(REFRESH_COOKIE)

    def device_cookie(self) -> str | None:
        return self.request.cookies.get(DEVICE_COOKIE)

    def set_refresh_cookie(self, token: str) -> None:
        self._set_cookie(REFRESH_COOKIE, token, self.services.settings.refresh_token_ttl_seconds)

    def set_device_cookie(self, value: str) -> None:
        self._set_cookie(DEVICE_COOKIE, value, DEVICE_COOKIE_MAX_AGE_SECONDS)

    def _set_cookie(self, name: str, value: str, max_age: int) -> None:
        if self.response is None:
            return  # over WebSocket there is no HTTP response to carry a cookie
        settings = self.services.settings
        self.response.set_cookie(
            name,
            value,
            max_age=max_age,
            path=COOKIE_PATH,
            httponly=True,
            secure=settings.cookie_secure,
            samesite=settings.cookie_samesite,  # type: ignore[arg-type]
        )

    def clear_refresh_cookie(self) -> None:
        if self.response is None:
            return
        settings = self.services.settings
        self.response.delete_cookie(
            REFRESH_COOKIE,
            path=COOKIE_PATH,
            httponly=True,
            secure=settings.cookie_secure,
            samesite=settings.cookie_samesite,  # type: ignore[arg-type]
        )


Info = StrawberryInfo[Context, None]
