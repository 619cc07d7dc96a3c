"""Error mapping: domain errors keep their code, unexpected ones are masked and logged."""

from __future__ import annotations

import logging

import pytest
import strawberry

from ticketing.errors import Conflict, InvalidInput
from ticketing.graphql.errors import INTERNAL_MESSAGE, ErrorCodes, TicketingSchema
from ticketing.graphql.parser_cache import InBandParserCache

SECRET_DETAIL = "SELECT * FROM users WHERE password_hash = 'leak'"


@strawberry.type
class Query:
    @strawberry.field
    def broken(self) -> str:
        raise RuntimeError(SECRET_DETAIL)

    @strawberry.field
    def bad_title(self) -> str:
        raise InvalidInput("title", "The title needs 1 to 200 characters.")

    @strawberry.field
    def closed(self) -> str:
        raise Conflict("The ticket is closed.")


SCHEMA = TicketingSchema(query=Query, extensions=[ErrorCodes, InBandParserCache])


async def test_an_unexpected_error_is_masked_for_the_client_and_logged_in_full(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="ticketing.errors"):
        result = await SCHEMA.execute("{ broken }")

    assert result.errors is not None
    [error] = result.errors
    assert error.message == INTERNAL_MESSAGE
    assert error.extensions is not None
    assert error.extensions["code"] == "INTERNAL_SERVER_ERROR"
    assert set(error.extensions) == {"code", "reference"}
    assert "RuntimeError" not in str(error.formatted)
    [record] = [r for r in caplog.records if r.getMessage().startswith("Unexpected error")]
    assert error.extensions["reference"] in record.getMessage()
    assert record.exc_info is not None
    assert SECRET_DETAIL in str(record.exc_info[1])


async def test_bad_input_names_its_field() -> None:
    result = await SCHEMA.execute("{ badTitle }")

    assert result.errors is not None
    assert result.errors[0].extensions == {"code": "BAD_USER_INPUT", "field": "title"}
    assert result.errors[0].message == "The title needs 1 to 200 characters."


async def test_domain_errors_keep_their_code_and_are_not_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="ticketing.errors"):
        result = await SCHEMA.execute("{ closed }")

    assert result.errors is not None
    assert result.errors[0].extensions == {"code": "CONFLICT"}
    assert caplog.records == []


@pytest.mark.parametrize("document", ["{ closed ", "{ missing }"])
async def test_syntax_and_validation_errors_are_bad_user_input(document: str) -> None:
    # Sent twice on purpose: the second time the parse cache has seen the document.
    for _ in range(2):
        result = await SCHEMA.execute(document)

        assert result.errors is not None
        assert [e.extensions for e in result.errors] == [{"code": "BAD_USER_INPUT"}]
