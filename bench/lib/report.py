"""Results: a JSON file per run in bench/results/, a row per result in docs/performance.md.

Each table in docs/performance.md sits between two marker comments
(`<!-- results:start -->` for fan-out, `<!-- results:NAME:start -->` for the
others); a row is replaced when a new result has the same key (benchmark and
S by default), else appended.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lib import machine, revision

REPOSITORY = Path(__file__).resolve().parents[2]
RESULTS = REPOSITORY / "bench" / "results"
PERFORMANCE = REPOSITORY / "docs" / "performance.md"
COLUMNS = (
    "benchmark",
    "S",
    "rate",
    "p50",
    "p99",
    "max",
    "deliveries/s",
    "lost",
    "dup",
    "vs ceiling",
    "vs naive",
    "date",
    "note",
)


def timestamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def new_document(benchmark: str, args: argparse.Namespace) -> dict[str, Any]:
    """A result file's head: the machine, the server's code, the parameters, the load before."""
    return {
        "benchmark": benchmark,
        "machine": machine.describe(),
        "server_code": revision.describe(),
        "parameters": {key: value for key, value in vars(args).items() if key != "note"},
        "note": args.note,
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average_before": machine.load_average(),
        # the machine's speed before the run (machine.calibration_ms: lower is faster)
        "calibration_ms": machine.calibration_ms(),
    }


def write_json(benchmark: str, stamp: str, document: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{benchmark}-{stamp}.json"
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _markers(table: str) -> tuple[str, str]:
    name = "results" if table == "" else f"results:{table}"
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def upsert_rows(
    rows: list[dict[str, str]],
    *,
    table: str = "",
    columns: tuple[str, ...] = COLUMNS,
    key: tuple[str, ...] = ("benchmark", "S"),
) -> None:
    """Replace the rows of `table` with the same key, append the others.

    `table` names the marker pair (`""` is the fan-out table); a table whose
    markers are missing is added at the end of the file.
    """
    start, end = _markers(table)
    text = PERFORMANCE.read_text()
    if start not in text:
        text = f"{text.rstrip()}\n\n{start}\n{end}\n"
    head, rest = text.split(start, 1)
    body, tail = rest.split(end, 1)
    lines = [line for line in body.strip().splitlines() if line.startswith("|")]
    existing = [dict(zip(columns, _cells(line), strict=False)) for line in lines[2:]]
    for row in rows:
        wanted = tuple(row.get(column) for column in key)
        for index, old in enumerate(existing):
            if tuple(old.get(column) for column in key) == wanted:
                existing[index] = row
                break
        else:
            existing.append(row)
    rendered = [
        "| " + " | ".join(columns) + " |",
        "|" + "|".join(" --- " for _ in columns) + "|",
        *("| " + " | ".join(row.get(c, "") for c in columns) + " |" for row in existing),
    ]
    PERFORMANCE.write_text(f"{head}{start}\n" + "\n".join(rendered) + f"\n{end}{tail}")
