"""Resident memory of the server's worker processes, from /proc (Linux).

RSS (VmRSS in /proc/<pid>/status) counts every page a process has in memory,
shared ones included; PSS (/proc/<pid>/smaps_rollup) divides shared pages
among the processes sharing them. uvicorn spawns its workers, so they share
little beyond the interpreter's files; both are reported.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lib.processes import children_of


def _field_kib(path: Path, name: str) -> int | None:
    with contextlib.suppress(OSError):
        for line in path.read_text().splitlines():
            if line.startswith(name):
                return int(line.split()[1])
    return None


def rss_kib(pid: int) -> int | None:
    return _field_kib(Path(f"/proc/{pid}/status"), "VmRSS:")


def pss_kib(pid: int) -> int | None:
    return _field_kib(Path(f"/proc/{pid}/smaps_rollup"), "Pss:")


def sample(pids: Sequence[int]) -> dict[str, Any]:
    """RSS and PSS of each process and their sums, in KiB."""
    per_pid = {pid: {"rss_kib": rss_kib(pid), "pss_kib": pss_kib(pid)} for pid in pids}
    return {
        "rss_kib": sum(v["rss_kib"] or 0 for v in per_pid.values()),
        "pss_kib": sum(v["pss_kib"] or 0 for v in per_pid.values()),
        "per_process": {str(pid): values for pid, values in per_pid.items()},
        "at": time.time(),
    }


def settled(
    pids: Sequence[int],
    *,
    window: int = 5,
    tolerance_kib: int = 512,
    interval: float = 1.0,
    limit: float = 60.0,
) -> dict[str, Any]:
    """Sample every `interval` s until the summed RSS of the last `window` samples
    stays within `tolerance_kib` (or `limit` s passed); the last sample, and how long."""
    started = time.monotonic()
    history: list[int] = []
    while True:
        current = sample(pids)
        rss = current["rss_kib"]
        assert isinstance(rss, int)
        history.append(rss)
        recent = history[-window:]
        waited = time.monotonic() - started
        if (len(recent) == window and max(recent) - min(recent) <= tolerance_kib) or waited > limit:
            return {**current, "settle_seconds": round(waited, 1), "stable": waited <= limit}
        time.sleep(interval)


def worker_pids(server_pid: int) -> list[int]:
    """The server's worker processes: children started by multiprocessing's spawn
    (uvicorn's workers), not its resource tracker."""
    found = []
    for pid in children_of(server_pid):
        with contextlib.suppress(OSError):
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
    return found


def sockstat() -> dict[str, dict[str, int]]:
    """/proc/net/sockstat: sockets in use, and the kernel's TCP buffer pages (`mem`),
    for the whole machine (both ends of every loopback connection)."""
    table: dict[str, dict[str, int]] = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/net/sockstat").read_text().splitlines():
            name, _, rest = line.partition(":")
            values = rest.split()
            table[name] = {values[i]: int(values[i + 1]) for i in range(0, len(values) - 1, 2)}
    return table
