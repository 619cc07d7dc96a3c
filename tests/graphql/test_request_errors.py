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
