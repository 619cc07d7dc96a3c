"""CORS with credentials for the configured origins, and not a single CORS header for others.

Starlette's CORSMiddleware sends `Access-Control-Allow-Credentials: true` (and
its preflight's allowed methods and headers) to any origin, leaving out only
`Access-Control-Allow-Origin`. Browsers still refuse, but the answer to an
origin that is not on the list should say nothing at all: here such a
preflight is refused with 403 and no CORS header, and an actual request is
served as if it had no Origin (a browser then keeps the response from the page).
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import PlainTextResponse
from starlette.types import Message, Receive, Scope, Send


class StrictCORSMiddleware(CORSMiddleware):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = Headers(scope=scope)
            origin = headers.get("origin")
            if origin is not None and not self.is_allowed_origin(origin):
                preflight = _is_preflight(scope, headers)
                await self._foreign(scope, receive, send, preflight=preflight)
                return
        await super().__call__(scope, receive, send)

    async def _foreign(self, scope: Scope, receive: Receive, send: Send, preflight: bool) -> None:
        if preflight:
            response = PlainTextResponse("Disallowed CORS origin", status_code=403)
            response.headers["Vary"] = "Origin"
            await response(scope, receive, send)
            return

        async def send_varying_by_origin(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                # A cache must not hand this answer to an allowed origin, or the reverse.
                MutableHeaders(scope=message).add_vary_header("Origin")
            await send(message)

        await self.app(scope, receive, send_varying_by_origin)


def _is_preflight(scope: Scope, headers: Headers) -> bool:
    return scope["method"] == "OPTIONS" and "access-control-request-method" in headers
