"""What one socket may send: at most WS_MESSAGES_PER_SECOND messages, WS_MESSAGE_BURST at once.

Every message counts, whatever its type and whether it parses, before it is
decoded; a socket beyond the rate is closed with 4429. (The size of each
message is capped by uvicorn: WS_MAX_MESSAGE_BYTES, close 1009.)
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Callable
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.async_base_view import AsyncBaseHTTPView
from strawberry.http.exceptions import NonJsonMessageReceived, NonTextMessageReceived

from ticketing.graphql.json_input import NotJSON, decode_json
from ticketing.services import Services

TOO_MANY_MESSAGES_CLOSE_CODE = 4429


class MessageRate:
    """A token bucket: `per_second` on average, at most `burst` at once."""

    def __init__(
        self, per_second: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._per_second = per_second
        self._burst = float(burst)
        self._tokens = float(burst)
        self._clock = clock
        self._last = clock()

    def allow(self) -> bool:
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._last) * self._per_second)
        self._last = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


class RateLimitedWebSocketAdapter(ASGIWebSocketAdapter):
    def __init__(
        self,
        view: AsyncBaseHTTPView[Any, Any, Any, Any, Any, Any, Any],
        request: WebSocket,
        response: WebSocket,
    ) -> None:
        super().__init__(view, request, response)
        services: Services = request.app.state.services
        settings = services.settings
        self._rate = MessageRate(settings.ws_messages_per_second, settings.ws_message_burst)

    async def iter_json(
        self, *, ignore_parsing_errors: bool = False
    ) -> AsyncGenerator[object, None]:
        # strawberry's loop, with every message counted before it is decoded,
        # and decoded strictly (json_input.py). A message that does not decode
        # is never skipped, though the legacy handler asks for that: both
        # protocols close the socket on it (ws_handlers.py).
        del ignore_parsing_errors
        try:
            while self.ws.application_state != WebSocketState.DISCONNECTED:
                text = await self.ws.receive_text()
                if not self._rate.allow():
                    await self.close(TOO_MANY_MESSAGES_CLOSE_CODE, "Too many messages")
                    return
                try:
                    message = decode_json(text)
                except NotJSON as error:
                    raise NonJsonMessageReceived from error
                yield message
        except KeyError as error:  # a binary message
            raise NonTextMessageReceived from error
        except WebSocketDisconnect:
            pass
