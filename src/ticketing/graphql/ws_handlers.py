"""The WebSocket protocol handlers: strawberry's, with the contract's rules.

- Both: every message is checked against its protocol's shape before
  strawberry reads it (ws_messages.py); a malformed one closes the socket
  with 4400, on the legacy protocol too (strawberry skipped what did not
  parse there, and crashed on the rest).
- Both: refusing an operation above the per-connection limit carries an
  `extensions.code` (RATE_LIMITED), as every error must.
- Legacy `graphql-ws`: strawberry closes a refused connection with 1011
  (server error) and never times out a socket that sends no
  `connection_init`. The contract asks for 4403 on a bad token on both
  protocols, so that a client can tell "your token is bad" (refresh and
  retry) from "the server broke"; an idle socket is closed with 4408, and a
  second `connection_init` with 4429, as graphql-transport-ws does.
- Both: an operation's task starts knowing its id and result message type
  (`direct_frames.starting_operation`), so that its live events can be
  written to the socket directly.
- Both: every operation checks its session afresh. The socket's context
  outlives sessions, so each operation starts by forgetting the principal the
  last one checked: a log-out since then refuses it. (An HTTP request's
  context is made for that request alone.)
- Both: `on_ws_connect` refuses a connection by raising ConnectionRefused,
  whose close code is ours to pick (4403 bad token, 4429 too many sockets for
  the user); strawberry's ConnectionRejectionError always closes with 4403 (or
  1011 on the legacy protocol). A socket gives its user's slot back when it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, cast

from graphql import GraphQLFormattedError
from starlette.websockets import WebSocketDisconnect
from starlette.websockets import WebSocketDisconnected as StarletteWebSocketDisconnected
from strawberry.http.exceptions import NonJsonMessageReceived, WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage as TransportInitMessage,
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
from uvicorn.protocols.utils import ClientDisconnected

from ticketing.graphql.context import Context
from ticketing.graphql.direct_frames import starting_operation
from ticketing.graphql.ws_messages import (
    BAD_MESSAGE_CLOSE_CODE,
    MalformedMessage,
    legacy_ws_message,
    transport_ws_message,
)

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from ticketing.graphql.view import GraphQLView

FORBIDDEN_CLOSE_CODE = 4403
INIT_TIMEOUT_CLOSE_CODE = 4408
DUPLICATE_ID_CLOSE_CODE = 4409
DUPLICATE_ID_REASON = "Subscriber for this id already exists"
NOT_JSON_REASON = "WebSocket message must be valid JSON"  # strawberry's words, on both protocols
TOO_MANY_CLOSE_CODE = 4429
SECOND_INIT_REASON = "Too many initialisation requests"  # graphql-transport-ws's words
LIMIT_ERROR: GraphQLFormattedError = {
    "message": "Too many operations on this connection.",
    "extensions": {"code": "RATE_LIMITED"},
}


class ConnectionRefused(Exception):
    """Raised by `on_ws_connect`: close the socket with `code` (after `payload`, on graphql-ws)."""

    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.payload: dict[str, object] = {"message": message}


def _over_limit(running: int, limit: int | None) -> bool:
    return limit is not None and running >= limit


async def _give_back_slot(view: object, context: Context) -> None:
    await cast("GraphQLView", view).connections.leave(context)


# What a send raises once the peer has gone: strawberry's wrapper, uvicorn's,
# and starlette's two (after the socket's close was sent, or as it failed).
PEER_LEFT = (
    WebSocketDisconnected,
    ClientDisconnected,
    StarletteWebSocketDisconnected,
    WebSocketDisconnect,
)


def _peer_left(error: BaseException) -> None:
    # A client that left while we were sending to it is routine (a closed tab, a
    # lost network), and any client can make it happen at will: strawberry logs
    # each as an error with its traceback (thousands at once after a mass
    # disconnect, costing CPU, or a flood of the log on purpose).
    logger.debug("WebSocket peer left during a send: %r", error)


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    async def handle_task_exception(self, error: Exception) -> None:
        if isinstance(error, PEER_LEFT):
            _peer_left(error)
            return
        await super().handle_task_exception(error)

    async def handle(self) -> None:
        try:
            await super().handle()
        finally:
            await _give_back_slot(self.view, self.context)

    async def handle_message(self, message: object) -> None:
        try:
            checked = transport_ws_message(message)
        except MalformedMessage as malformed:
            await self.websocket.close(code=BAD_MESSAGE_CLOSE_CODE, reason=malformed.reason)
            return
        await super().handle_message(checked)

    async def handle_connection_init(self, message: TransportInitMessage) -> None:
        try:
            await super().handle_connection_init(message)
        except ConnectionRefused as refused:
            await self.websocket.close(code=refused.code, reason=refused.reason)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if self.connection_acknowledged and message["id"] in self.operations:
            # strawberry's close reason quotes the id, which need not fit in a close frame
            await self.websocket.close(code=DUPLICATE_ID_CLOSE_CODE, reason=DUPLICATE_ID_REASON)
            return
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
        self.context.forget_principal()
        with starting_operation(message["id"], "next"):
            await super().handle_subscribe(message)


class LegacyWSHandler(BaseGraphQLWSHandler[Context, None]):
    _init_received = False

    async def handle(self) -> None:
        timer = asyncio.create_task(self._close_unless_initialised())
        try:
            await super().handle()
        except NonJsonMessageReceived:
            # strawberry skips what does not parse on this protocol; our adapter
            # raises it anyway, so that a malformed message gets the same answer
            # here as anywhere else on either protocol
            await self.websocket.close(code=BAD_MESSAGE_CLOSE_CODE, reason=NOT_JSON_REASON)
        finally:
            timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await timer
            await _give_back_slot(self.view, self.context)

    async def handle_async_results(
        self,
        operation_id: str,
        query: str,
        operation_name: str | None,
        variables: dict[str, object] | None,
    ) -> None:
        # strawberry runs this as a task nobody awaits: what it raises is logged
        # by asyncio as "Task exception was never retrieved", with a traceback.
        try:
            await super().handle_async_results(operation_id, query, operation_name, variables)
        except PEER_LEFT as error:
            _peer_left(error)

    async def _close_unless_initialised(self) -> None:
        await asyncio.sleep(self.view.connection_init_wait_timeout.total_seconds())
        if not self._init_received:
            await self.websocket.close(
                code=INIT_TIMEOUT_CLOSE_CODE, reason="Connection initialisation timeout"
            )

    async def handle_message(self, message: object) -> None:
        try:
            checked = legacy_ws_message(message)
        except MalformedMessage as malformed:
            await self.websocket.close(code=BAD_MESSAGE_CLOSE_CODE, reason=malformed.reason)
            return
        await super().handle_message(checked)

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
        self.context.forget_principal()
        with starting_operation(message["id"], "data"):
            await super().handle_start(message)

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        if self._init_received:
            # strawberry acknowledges every connection_init: a second one with
            # another token made the socket that token's user, without a slot of
            # theirs. graphql-transport-ws refuses it; so do we, the same way.
            await self.websocket.close(code=TOO_MANY_CLOSE_CODE, reason=SECOND_INIT_REASON)
            return
        self._init_received = True
        try:
            await super().handle_connection_init(message)
        except ConnectionRefused as refused:
            await self.send_message({"type": "connection_error", "payload": refused.payload})
            await self.websocket.close(code=refused.code, reason=refused.reason)
