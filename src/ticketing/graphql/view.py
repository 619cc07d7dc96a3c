"""The `/graphql` endpoint: strawberry's ASGI view with our context and safe settings."""

from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry import Schema
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from strawberry.types.unset import UnsetType

from ticketing.errors import Unauthenticated
from ticketing.graphql.context import Context
from ticketing.graphql.http_transport import GraphQLOverHTTP
from ticketing.graphql.loaders import Loaders
from ticketing.graphql.shared_execution import encode_frame
from ticketing.graphql.ws_connections import ConnectionCap
from ticketing.graphql.ws_handlers import (
    FORBIDDEN_CLOSE_CODE,
    TOO_MANY_CLOSE_CODE,
    ConnectionRefused,
    LegacyWSHandler,
    TransportWSHandler,
)
from ticketing.graphql.ws_limits import RateLimitedWebSocketAdapter
from ticketing.services import Services
from ticketing.settings import Settings


class GraphQLView(GraphQLOverHTTP):
    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler
    websocket_adapter_class = RateLimitedWebSocketAdapter
    connections: ConnectionCap

    def encode_json(self, data: object) -> str | bytes:
        # A live event's result shared by many subscribers is serialized once;
        # each socket's frame only wraps it with its own operation id.
        return encode_frame(data) or super().encode_json(data)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        services: Services = request.app.state.services
        http_response = response if isinstance(response, Response) else None
        return Context(
            services=services,
            request=request,
            response=http_response,
            loaders=Loaders(cache=http_response is not None),
        )

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        # A connection without a token may open (every subscription will then ask
        # for one); a bad token is refused at once, which closes the socket with 4403.
        try:
            principal = await context.principal()
        except Unauthenticated:
            raise ConnectionRefused(
                FORBIDDEN_CLOSE_CODE, "Forbidden", "Invalid or expired token."
            ) from None
        if principal is not None and not await self.connections.admit(context, principal.user.id):
            raise ConnectionRefused(
                TOO_MANY_CLOSE_CODE, "Too many connections", "Too many open connections."
            )
        return await super().on_ws_connect(context)


def build_view(schema: Schema, settings: Settings) -> GraphQLView:
    view = GraphQLView(
        schema,
        graphql_ide="graphiql" if settings.graphiql else None,
        allow_queries_via_get=True,  # queries only: GraphQLOverHTTP answers 405 to the rest
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL),
        connection_init_wait_timeout=timedelta(seconds=settings.ws_connection_init_timeout_seconds),
        max_subscriptions_per_connection=settings.ws_max_subscriptions_per_connection,
        multipart_uploads_enabled=False,
        # Pages on other origins may not open a socket (same-origin and clients
        # without an Origin header, which are not browsers, always may).
        allowed_origins=settings.ws_allowed_origins,
    )
    view.connections = ConnectionCap(settings.ws_max_connections_per_user)
    return view
