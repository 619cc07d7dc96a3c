"""The message shapes let through what real clients send (refusals are e2e: test_ws_protocol.py)."""

from __future__ import annotations

import pytest

from ticketing.graphql.ws_messages import (
    MAX_OPERATION_ID_LENGTH,
    MalformedMessage,
    legacy_ws_message,
    transport_ws_message,
)

QUERY = "subscription { configurationUpdated { version } }"
UUID = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"  # graphql-ws's default ids


@pytest.mark.parametrize(
    "message",
    [
        {"type": "connection_init"},
        {"type": "connection_init", "payload": {"authorization": "Bearer x"}},
        {"type": "ping"},
        {"type": "pong", "payload": {}},
        {"type": "subscribe", "id": UUID, "payload": {"query": QUERY}},
        {
            "type": "subscribe",
            "id": "x" * MAX_OPERATION_ID_LENGTH,
            "payload": {"query": QUERY, "variables": {}, "operationName": None, "extensions": {}},
        },
        {"type": "complete", "id": UUID},
    ],
)
def test_graphql_transport_ws_clients_are_understood(message: dict[str, object]) -> None:
    assert transport_ws_message(message) == message


@pytest.mark.parametrize(
    "message",
    [
        {"type": "connection_init", "payload": {}},
        {"type": "start", "id": "1", "payload": {"query": QUERY, "variables": None}},
        {"type": "start", "id": "2", "payload": {"query": QUERY, "operationName": "A"}},
        {"type": "stop", "id": "1"},
        {"type": "connection_terminate"},
    ],
)
def test_subscriptions_transport_ws_clients_are_understood(message: dict[str, object]) -> None:
    assert legacy_ws_message(message) == message


def test_a_null_payload_is_no_payload() -> None:
    # graphql-ws allows it; strawberry closed graphql-transport-ws sockets with 4400 on it
    init = {"type": "connection_init", "payload": None}

    assert transport_ws_message(init) == {"type": "connection_init"}
    assert legacy_ws_message(init) == {"type": "connection_init"}


def test_a_close_reason_never_quotes_the_client() -> None:
    with pytest.raises(MalformedMessage) as refused:
        transport_ws_message({"type": "é" * 200})

    assert len(refused.value.reason.encode()) <= 123
    assert "é" not in refused.value.reason
