"""schema.graphql is the schema the code builds, and it keeps the API contract."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ticketing.graphql.schema import export_schema

REPO = Path(__file__).resolve().parents[1]
SCHEMA_FILE = REPO / "schema.graphql"
CHECKER = REPO.parent / "shared" / "tools" / "check_contract.py"
CI = os.environ.get("CI", "").lower() not in ("", "0", "false", "no")

CHANGE = re.compile(r"^contract: ([A-Z_]+: .*)$")
SUMMARY = re.compile(r"^contract: (\d+) breaking change\(s\) against the contract$")

# The contract parts a later issue brings (the subscriptions), exactly as the checker
# words them today. Each one has a strict xfail below: once it is implemented that
# test fails until the line goes away from this list.
EXPECTED_MISSING = (
    "TYPE_REMOVED: Subscription was removed.",
    "TYPE_REMOVED: TicketStatusChange was removed.",
)
PENDING_REASON = "pending issue 3/4: the subscriptions are not in the schema yet"


def short_name(change: str) -> str:
    """'FIELD_REMOVED: Field Query.ticket was removed.' -> 'Query.ticket'."""
    subject = change.split(": ", 1)[1].split(" was removed")[0]
    return subject.removeprefix("Field ").removeprefix("Standard scalar ")


@pytest.fixture(scope="module")
def contract_changes() -> list[str]:
    """The breaking changes the contract checker reports for schema.graphql."""
    if not CHECKER.is_file():
        reason = (
            f"no contract checker at {CHECKER}: the contract lives in ../shared, "
            "which a user's clone does not have"
        )
        if CI:
            pytest.fail(f"{reason}, and CI requires it", pytrace=False)
        pytest.skip(reason)
    run = subprocess.run(
        [sys.executable, str(CHECKER), SCHEMA_FILE.name],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = run.stdout + run.stderr
    lines = run.stdout.splitlines()
    summary = SUMMARY.match(lines[-1]) if lines else None
    assert summary is not None, f"unexpected output from the contract checker:\n{output}"
    changes = [m.group(1) for line in lines[:-1] if (m := CHANGE.match(line))]
    assert len(changes) == len(lines) - 1 == int(summary.group(1)), output
    assert run.returncode == (1 if changes else 0), output
    return changes


def test_schema_file_is_the_exported_schema() -> None:
    # given the committed schema.graphql
    committed = SCHEMA_FILE.read_text(encoding="utf-8") if SCHEMA_FILE.is_file() else ""
    # when the code's schema is exported
    exported = export_schema()
    # then they are the same text
    assert committed == exported, (
        "schema.graphql is out of date: run `ticketing export-schema > schema.graphql`"
    )


def test_expected_missing_is_sorted_and_unique() -> None:
    assert list(EXPECTED_MISSING) == sorted(set(EXPECTED_MISSING))


def test_schema_breaks_the_contract_only_where_still_expected(
    contract_changes: list[str],
) -> None:
    # given the checker's report on schema.graphql (the fixture)
    # when the changes a later issue still has to make are set aside
    unexpected = sorted(set(contract_changes) - set(EXPECTED_MISSING))
    # then nothing else breaks the contract
    assert unexpected == [], "schema.graphql breaks the API contract:\n" + "\n".join(unexpected)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(
            change,
            id=short_name(change),
            marks=pytest.mark.xfail(strict=True, raises=AssertionError, reason=PENDING_REASON),
        )
        for change in EXPECTED_MISSING
    ],
)
def test_pending_contract_part_is_implemented(contract_changes: list[str], change: str) -> None:
    # given a part of the contract that a later issue brings
    # when the checker reports on schema.graphql
    # then it no longer reports that part missing (if so: remove it from EXPECTED_MISSING)
    assert change not in contract_changes
