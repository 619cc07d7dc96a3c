"""Limits on every HTTP request: how large its body may be, and how long it may take.

Both are plain ASGI middleware; WebSocket connections and the lifespan pass
through untouched (a socket lives long on purpose and has limits of its own).

- BodySizeLimit: a declared Content-Length above the limit is answered 413 at
  once, before anything is read (and before `100 Continue`); a body without one
  (chunked) is counted while it streams in, and the request fails with 413 as
  soon as it passes the limit, without waiting for the rest.
- RequestTimeout: a request still running after the limit is cancelled (its
  task receives CancelledError at its next await, so open transactions roll
  back) and answered 503. Work that never awaits (CPU-bound) cannot be
  interrupted; the operation limits bound that.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger(__name__)


class BodyTooLarge(Exception):
    """Raised from `receive` to the application once the body passes the limit."""


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def watching_send(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge:
            if response_started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = PlainTextResponse(
            f"The request body is larger than {self.max_bytes} bytes.",
            status_code=413,
            headers={"Connection": "close"},  # the rest of the body is not read
        )
        await response(scope, receive, send)


class RequestTimeout:
    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        response_started = False

        async def watching_send(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        deadline = asyncio.timeout(self.seconds)
        try:
            async with deadline:
                await self.app(scope, receive, watching_send)
        except TimeoutError:
            if not deadline.expired():
                raise  # a timeout of the application's own, not ours
            logger.warning(
                "%s %s took more than %ss and was cancelled",
                scope["method"],
                scope["path"],
                self.seconds,
            )
            if response_started:
                return  # too late for a status; the connection ends with the response cut
            response = PlainTextResponse(
                "The request took too long and was cancelled.",
                status_code=503,
                headers={"Connection": "close"},
            )
            await response(scope, receive, send)
