"""The legacy `graphql-ws` protocol handler, with the rules of the newer protocol.

strawberry's handler closes a refused legacy connection with 1011 (server
error) and never times out a socket that sends no `connection_init`. The
contract asks for 4403 on a bad token on both protocols, so that a client can
tell "your token is bad" (refresh and retry) from "the server broke"; and an
idle unauthenticated socket is closed with 4408, as graphql-transport-ws does.
"""

from __future__ import annotations

import asyncio
import contextlib

from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import ConnectionInitMessage

from ticketing.graphql.context import Context

FORBIDDEN_CLOSE_CODE = 4403
INIT_TIMEOUT_CLOSE_CODE = 4408


class LegacyWSHandler(BaseGraphQLWSHandler[Context, None]):
    _init_received = False

    async def handle(self) -> None:
        timer = asyncio.create_task(self._close_unless_initialised())
        try:
            await super().handle()
        finally:
            timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await timer

    async def _close_unless_initialised(self) -> None:
        await asyncio.sleep(self.view.connection_init_wait_timeout.total_seconds())
        if not self._init_received:
            await self.websocket.close(
                code=INIT_TIMEOUT_CLOSE_CODE, reason="Connection initialisation timeout"
            )

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        self._init_received = True
        payload = message.get("payload")
        if isinstance(payload, dict):
            self.context.connection_params = payload
            try:
                await self.view.on_ws_connect(self.context)
            except ConnectionRejectionError as error:
                await self.send_message({"type": "connection_error", "payload": error.payload})
                await self.websocket.close(code=FORBIDDEN_CLOSE_CODE, reason="Forbidden")
                return
        await super().handle_connection_init(message)
