"""A diagnostic, not a benchmark: `ticketing serve --workers 1` with tracemalloc tracing.

    python bench/lib/traced_server.py OUT.json serve --port P --workers 1

Runs the very command line `ticketing serve` runs (same uvicorn settings, same
WebSocket protocol class), in one process so that the tracing covers the
process that serves. Each SIGUSR1 takes a snapshot; from the second on, what
was allocated since the previous one (by line, by file, and the largest by
call stack) is written to OUT.json, one entry per signal after the first, and
an empty `OUT.json.<n>` is created once signal n (from 0) is handled. tracemalloc sees only
what Python's allocators hand out: the rest of the RSS (C libraries' own
buffers, allocator fragmentation) is what the RSS delta shows beyond it.
"""

from __future__ import annotations

import importlib
import json
import signal
import sys
import tracemalloc
from pathlib import Path
from types import FrameType
from typing import Any

FRAMES = 4  # deeper stacks slow the server down too much to serve a burst
TOP = 30
TOP_STACKS = 12


def _entries(stats: list[tracemalloc.StatisticDiff], top: int) -> list[dict[str, Any]]:
    return [
        {
            "where": str(stat.traceback[0]) if stat.traceback else "?",
            "size_diff": stat.size_diff,
            "count_diff": stat.count_diff,
        }
        for stat in stats[:top]
    ]


def main() -> int:
    out = Path(sys.argv[1])
    tracemalloc.start(FRAMES)
    ignore = (
        tracemalloc.Filter(False, tracemalloc.__file__),
        tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
        tracemalloc.Filter(False, "<frozen importlib._bootstrap_external>"),
    )
    snapshots: list[tracemalloc.Snapshot] = []
    results: list[dict[str, Any]] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        snapshot = tracemalloc.take_snapshot().filter_traces(ignore)
        if snapshots:
            previous = snapshots[-1]
            by_line = snapshot.compare_to(previous, "lineno")
            by_stack = snapshot.compare_to(previous, "traceback")
            results.append(
                {
                    "total_diff": sum(stat.size_diff for stat in by_line),
                    "count_diff": sum(stat.count_diff for stat in by_line),
                    "by_line": _entries(by_line, TOP),
                    "by_file": _entries(snapshot.compare_to(previous, "filename"), TOP),
                    "stacks": [
                        {
                            "size_diff": stat.size_diff,
                            "count_diff": stat.count_diff,
                            "stack": stat.traceback.format(most_recent_first=True),
                        }
                        for stat in by_stack[:TOP_STACKS]
                    ],
                }
            )
            out.write_text(json.dumps(results, indent=1))
        snapshots[:] = [snapshot]
        Path(f"{out}.{len(results)}").touch()  # the n-th signal (from 0) is done

    signal.signal(signal.SIGUSR1, on_signal)
    cli = importlib.import_module("ticketing.cli")
    return int(cli.main(sys.argv[2:]))


if __name__ == "__main__":
    raise SystemExit(main())
