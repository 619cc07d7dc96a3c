"""Results: a JSON file per run in bench/results/, a row per result in docs/performance.md.

The table in docs/performance.md sits between two marker comments; a row is
replaced when a new result has the same benchmark and S, else appended.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parents[2]
RESULTS = REPOSITORY / "bench" / "results"
PERFORMANCE = REPOSITORY / "docs" / "performance.md"
TABLE_START = "<!-- results:start -->"
TABLE_END = "<!-- results:end -->"
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


def write_json(benchmark: str, stamp: str, document: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{benchmark}-{stamp}.json"
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def upsert_rows(rows: list[dict[str, str]]) -> None:
    """Replace the rows with the same (benchmark, S), append the others."""
    text = PERFORMANCE.read_text()
    head, rest = text.split(TABLE_START, 1)
    table, tail = rest.split(TABLE_END, 1)
    lines = [line for line in table.strip().splitlines() if line.startswith("|")]
    existing = [dict(zip(COLUMNS, _cells(line), strict=False)) for line in lines[2:]]
    for row in rows:
        key = (row["benchmark"], row["S"])
        for index, old in enumerate(existing):
            if (old.get("benchmark"), old.get("S")) == key:
                existing[index] = row
                break
        else:
            existing.append(row)
    rendered = [
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "|".join(" --- " for _ in COLUMNS) + "|",
        *("| " + " | ".join(row.get(c, "") for c in COLUMNS) + " |" for row in existing),
    ]
    PERFORMANCE.write_text(f"{head}{TABLE_START}\n" + "\n".join(rendered) + f"\n{TABLE_END}{tail}")
