"""One graphql-transport-ws connection, opened as a browser's client library opens it.

Shared by the memory and reconnect benchmarks: the WebSocket handshake with the
`graphql-transport-ws` sub-protocol and no compression, `connection_init` with
the access token, and the wait for `connection_ack`. What happens next (a
subscription, reading) is the caller's.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

SUBPROTOCOL = Subprotocol("graphql-transport-ws")
ACK_TIMEOUT_SECONDS = 60.0


async def open_acknowledged(
    url: str, init_payload: dict[str, Any], compression: str | None = None
) -> ClientConnection:
    """A connection the server has acknowledged; closed again if anything fails."""
    ws = await connect(
        url,
        subprotocols=[SUBPROTOCOL],
        compression=compression,
        ping_interval=None,  # the server pings; answering is automatic
        open_timeout=ACK_TIMEOUT_SECONDS,
        close_timeout=5,
        max_size=None,
    )
    try:
        await ws.send(json.dumps({"type": "connection_init", "payload": init_payload}))
        ack = json.loads(await asyncio.wait_for(ws.recv(), ACK_TIMEOUT_SECONDS))
        if ack.get("type") != "connection_ack":
            raise RuntimeError(f"expected connection_ack, got {ack}")
    except BaseException:
        await ws.close()
        raise
    return ws


def subscribe_frame(operation_id: str, query: str, variables: dict[str, Any]) -> str:
    return json.dumps(
        {
            "id": operation_id,
            "type": "subscribe",
            "payload": {"query": query, "variables": variables},
        }
    )


async def answer_control(ws: ClientConnection, frame: str) -> str | None:
    """Answer a protocol `ping`; return the frame's type when it is neither ping nor pong
    (`next`, `error`, `complete`), else None."""
    message = json.loads(frame)
    kind = str(message.get("type"))
    if kind == "ping":
        await ws.send(json.dumps({"type": "pong"}))
        return None
    if kind == "pong":
        return None
    return kind
