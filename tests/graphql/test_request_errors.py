"""A variable that cannot be coerced is the client's error (BAD_USER_INPUT), not the server's."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from ticketing.graphql.schema import build_schema

SCHEMA = build_schema()
FILTERED = "query($f: TicketFilter) { tickets(filter: $f) { totalCount } }"
PAGED = "query($n: Int!) { tickets(first: $n) { totalCount } }"


@pytest.mark.parametrize(
    ("document", "variables"),
    [
        pytest.param(FILTERED, {"f": {"status": ["OPN"]}}, id="enum"),
        pytest.param(FILTERED, {"f": {"statuss": ["OPEN"]}}, id="input-field"),
        pytest.param(PAGED, {"n": "ten"}, id="int"),
        pytest.param(PAGED, {}, id="missing"),
    ],
)
async def test_a_bad_variable_is_bad_user_input_and_not_logged_as_a_server_error(
    document: str, variables: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="ticketing.errors"):
        result = await SCHEMA.execute(document, variable_values=variables)

    assert result.data is None
    assert result.errors is not None
    assert [e.extensions for e in result.errors] == [{"code": "BAD_USER_INPUT"}]
    assert result.errors[0].message.startswith("Variable '$")
    assert caplog.records == []


SUBSCRIPTION = "subscription A { configurationUpdated { version } }"


@pytest.mark.parametrize(
    ("document", "operation_name"),
    [
        pytest.param("", None, id="empty"),
        pytest.param("fragment F on Query { me { id } }", None, id="no-operation"),
        pytest.param(SUBSCRIPTION, "B", id="unknown-operation-name"),
    ],
)
async def test_a_document_without_the_operation_is_bad_user_input_over_websocket(
    document: str, operation_name: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    # Over WebSocket strawberry streams (HTTP refuses these before execution):
    # they were INTERNAL_SERVER_ERROR, with a traceback and an activity entry each.
    with caplog.at_level(logging.ERROR, logger="ticketing.errors"):
        stream = await SCHEMA.subscribe(document, operation_name=operation_name)
        results = [result async for result in stream]

    [result] = results
    assert result.errors is not None
    assert [e.extensions for e in result.errors] == [{"code": "BAD_USER_INPUT"}]
    assert caplog.records == []
