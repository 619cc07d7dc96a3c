"""The WebSocket protocol handlers: strawberry's, with the contract's rules.

- Both: refusing an operation above the per-connection limit carries an
  `extensions.code` (RATE_LIMITED), as every error must.
- Legacy `graphql-ws`: strawberry closes a refused connection with 1011
  (server error) and never times out a socket that sends no
  `connection_init`. The contract asks for 4403 on a bad token on both
  protocols, so that a client can tell "your token is bad" (refresh and
  retry) from "the server broke"; and an idle socket is closed with 4408, as
  graphql-transport-ws does.
"""

from __future__ import annotations

import asyncio
import contextlib

from graphql import GraphQLFormattedError
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ErrorMessage as TransportErrorMessage,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import SubscribeMessage
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import (
    ConnectionInitMessage,
    StartMessage,
)
from strawberry.subscriptions.protocols.graphql_ws.types import ErrorMessage as LegacyErrorMessage

from ticketing.graphql.context import Context

FORBIDDEN_CLOSE_CODE = 4403
INIT_TIMEOUT_CLOSE_CODE = 4408
LIMIT_ERROR: GraphQLFormattedError = {
    "message": "Too many operations on this connection.",
    "extensions": {"code": "RATE_LIMITED"},
}


def _over_limit(running: int, limit: int | None) -> bool:
    return limit is not None and running >= limit


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if (
            self.connection_acknowledged
            and message["id"] not in self.operations
            and _over_limit(len(self.operations), self.max_subscriptions_per_connection)
        ):
            refusal: TransportErrorMessage = {
                "id": message["id"],
                "type": "error",
                "payload": [LIMIT_ERROR],
            }
            await self.send_message(refusal)
            return
        await super().handle_subscribe(message)


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

    async def handle_start(self, message: StartMessage) -> None:
        running = len(self.tasks) - (message["id"] in self.tasks)  # a reused id replaces
        if self.connection_acknowledged and _over_limit(
            running, self.max_subscriptions_per_connection
        ):
            refusal: LegacyErrorMessage = {
                "type": "error",
                "id": message["id"],
                "payload": LIMIT_ERROR,
            }
            await self.send_message(refusal)
            return
        await super().handle_start(message)

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
