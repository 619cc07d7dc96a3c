"""Unexpected errors are reported once per failure and window, then counted."""

from __future__ import annotations

import logging

import pytest
import strawberry

from ticketing.graphql.errors import ErrorCodes, TicketingSchema
from ticketing.graphql.failure_reports import FailureReports, Repeats, fingerprint
from ticketing.graphql.parser_cache import InBandParserCache


def _raised(make: type[Exception]) -> Exception:
    try:
        raise make("detail the client chose")
    except Exception as error:
        return error


def test_one_failure_is_reported_once_per_window_and_its_repeats_counted() -> None:
    reports = FailureReports(window_seconds=60)

    occurrences = [reports.occurred("KeyError@a.py:1", now=float(i) / 10) for i in range(60)]

    assert [o.first for o in occurrences] == [True] + [False] * 59
    assert {o.reference for o in occurrences} == {occurrences[0].reference}
    assert reports.close_ended(now=59.9) == []
    assert reports.close_ended(now=60.0) == [Repeats(occurrences[0].reference, 59)]
    # the next occurrence opens a new window with a new reference
    again = reports.occurred("KeyError@a.py:1", now=61)
    assert again.first
    assert again.reference != occurrences[0].reference


def test_an_ended_window_is_closed_by_the_next_occurrence_too() -> None:
    reports = FailureReports(window_seconds=1)
    first = reports.occurred("a", now=0)
    reports.occurred("a", now=0.5)

    later = reports.occurred("b", now=2)

    assert later.ended == [Repeats(first.reference, 1)]


def test_distinct_failures_beyond_the_cap_share_one_overflow_report() -> None:
    reports = FailureReports(window_seconds=60, max_open=3)

    occurrences = [reports.occurred(f"failure-{i}", now=0) for i in range(10)]

    assert sum(o.first for o in occurrences) == 4  # three failures, then the overflow
    assert len({o.reference for o in occurrences[3:]}) == 1


def test_what_a_client_chooses_is_not_part_of_the_failure() -> None:
    def raise_at_one_line(message: str) -> Exception:
        try:
            raise ValueError(message)
        except ValueError as error:
            return error

    assert fingerprint(raise_at_one_line("a")) == fingerprint(raise_at_one_line("b"))
    assert fingerprint(_raised(KeyError)) != fingerprint(_raised(ValueError))
    assert fingerprint(raise_at_one_line("a")) != fingerprint(_raised(ValueError))  # another line


@strawberry.type
class Query:
    @strawberry.field
    def broken(self) -> str:
        raise RuntimeError("a bug")


async def test_the_schema_logs_a_repeated_failure_in_full_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    schema = TicketingSchema(
        query=Query, extensions=[ErrorCodes, InBandParserCache], error_report_window_seconds=60
    )
    with caplog.at_level(logging.ERROR, logger="ticketing.errors"):
        results = [await schema.execute("{ a: broken b: broken }") for _ in range(30)]

    references = {e.extensions["reference"] for r in results for e in r.errors or ()}  # type: ignore[index]
    assert len(references) == 1
    [record] = caplog.records
    assert record.exc_info is not None
    assert references.pop() in record.getMessage()
