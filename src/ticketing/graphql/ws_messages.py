"""The shape of each client message on both WebSocket sub-protocols, checked once on arrival.

strawberry's handlers index into a message as if it had the right shape. A
message that is not an object, lacks `id` or carries `payload: null` raised
TypeError or KeyError inside the ASGI application (uvicorn logged "Exception
in ASGI application" and dropped the socket without a close code); an `id`
that is a list raised in the same way; a `query`, `variables` or
`operationName` of the wrong JSON type went on to the executor (a traceback
in the log, and an INTERNAL_SERVER_ERROR or nothing for the client).

The rules are graphql-ws's own `validateMessage` (the reference server closes
with 4400 on any failure, and so do we), applied on graphql-transport-ws to
`connection_init`, `ping`, `pong`, `subscribe` and `complete`, and on the
legacy graphql-ws to `connection_init`, `start` and `stop`; any other type is
refused too. One rule is ours: an operation id has at most
MAX_OPERATION_ID_LENGTH characters, since every open operation keeps its id
and every result frame repeats it (graphql-ws clients use UUIDs, 36 characters;
subscriptions-transport-ws clients count from 1).

A close reason is a fixed text: it may hold 123 bytes, and a longer one made
websockets raise (another "Exception in ASGI application"), so it never quotes
the client.
"""

from __future__ import annotations

from typing import cast

from strawberry.subscriptions.protocols.graphql_transport_ws.types import Message
from strawberry.subscriptions.protocols.graphql_ws.types import OperationMessage

BAD_MESSAGE_CLOSE_CODE = 4400
MAX_OPERATION_ID_LENGTH = 128


class MalformedMessage(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def transport_ws_message(message: object) -> Message:
    """A graphql-transport-ws message from the client, or MalformedMessage."""
    fields = _typed_object(message)
    kind = fields["type"]
    if kind in ("connection_init", "ping", "pong"):
        return cast("Message", _without_null_payload(fields))
    if kind == "subscribe":
        _operation_id(fields)
        _operation_payload(fields)
    elif kind == "complete":
        _operation_id(fields)
    else:
        raise MalformedMessage("Unknown message type")
    return cast("Message", fields)


def legacy_ws_message(message: object) -> OperationMessage:
    """A (legacy) graphql-ws message from the client, or MalformedMessage."""
    fields = _typed_object(message)
    kind = fields["type"]
    if kind == "connection_init":
        return cast("OperationMessage", _without_null_payload(fields))
    if kind == "start":
        _operation_id(fields)
        _operation_payload(fields)
    elif kind == "stop":
        _operation_id(fields)
    elif kind != "connection_terminate":
        raise MalformedMessage("Unknown message type")
    return cast("OperationMessage", fields)


def _typed_object(message: object) -> dict[str, object]:
    if not isinstance(message, dict):
        raise MalformedMessage("A message must be a JSON object")
    if not isinstance(message.get("type"), str):
        raise MalformedMessage("A message needs a string 'type'")
    return message


def _without_null_payload(fields: dict[str, object]) -> dict[str, object]:
    """The message without a `payload: null`, which the protocols allow and strawberry refused."""
    payload = fields.get("payload")
    if payload is None:
        return {name: value for name, value in fields.items() if name != "payload"}
    if not isinstance(payload, dict):
        raise MalformedMessage("The payload must be an object")
    return fields


def _operation_id(fields: dict[str, object]) -> None:
    operation_id = fields.get("id")
    if not isinstance(operation_id, str) or not operation_id:
        raise MalformedMessage("The 'id' must be a non-empty string")
    if len(operation_id) > MAX_OPERATION_ID_LENGTH:
        raise MalformedMessage(f"The 'id' may have {MAX_OPERATION_ID_LENGTH} characters at most")


def _operation_payload(fields: dict[str, object]) -> None:
    payload = fields.get("payload")
    if not isinstance(payload, dict):
        raise MalformedMessage("The payload must be an object")
    if not isinstance(payload.get("query"), str):
        raise MalformedMessage("The 'query' must be a string")
    for name in ("variables", "extensions"):
        if payload.get(name) is not None and not isinstance(payload[name], dict):
            raise MalformedMessage(f"The '{name}' must be an object or null")
    operation_name = payload.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise MalformedMessage("The 'operationName' must be a string or null")
