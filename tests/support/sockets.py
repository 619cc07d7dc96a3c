"""gql's WebSocket transport to a test server, signed in the way a browser client does it."""

from __future__ import annotations

from gql.transport.websockets import WebsocketsTransport

from tests.support.server import Server

TRANSPORT_WS = WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL  # graphql-transport-ws


def socket_transport(
    server: Server, token: str | None, protocol: str = TRANSPORT_WS
) -> WebsocketsTransport:
    """To `server`'s /graphql, with `Bearer <token>` in connection_init (none without a token)."""
    payload = {"authorization": f"Bearer {token}"} if token else {}
    return WebsocketsTransport(url=server.ws_url, init_payload=payload, subprotocols=[protocol])
