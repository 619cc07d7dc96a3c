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


def test_schema_keeps_the_whole_contract(contract_changes: list[str]) -> None:
    # given the checker's report on schema.graphql (the fixture)
    # then nothing in it breaks the contract
    assert contract_changes == [], "schema.graphql breaks the API contract:\n" + "\n".join(
        contract_changes
    )
