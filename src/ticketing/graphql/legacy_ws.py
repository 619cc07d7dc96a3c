"""The legacy `graphql-ws` protocol handler, closing with 4403 on a bad token.

strawberry's handler closes a refused legacy connection with 1011 (server
error); the contract asks for 4403 on both protocols, so that a client can tell
"your token is bad" (refresh and retry) from "the server broke".
"""

from __future__ import annotations

from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import ConnectionInitMessage

from ticketing.graphql.context import Context

FORBIDDEN_CLOSE_CODE = 4403


class LegacyWSHandler(BaseGraphQLWSHandler[Context, None]):
    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
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
