"""CPU time per component during a phase, and how busy the whole machine was.

On a 2-core machine the server, Redis, MariaDB, the clients and whatever else
runs (other people's test suites) share the cores: these numbers say who used
them, and whether the machine was quiet enough for the result to mean much.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _process_ticks(pid: int) -> int | None:
    """utime + stime of a process; None once it has gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all cores since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # without guest time, which is counted in user already
    return total - idle, total


def pid_listening_on(port: int) -> list[int]:
    """The process that listens on a TCP port (the shared MariaDB or Redis): by
    name would also count the private servers other test suites start."""
    suffix = f":{port:04X}"
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[1].endswith(suffix) and fields[3] == "0A":  # 0A: LISTEN
                    inodes.add(f"socket:[{fields[9]}]")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if any(os.readlink(fd) in inodes for fd in (entry / "fd").iterdir()):
                return [int(entry.name)]
    return []


class CpuMeter:
    def __init__(self, groups: Mapping[str, Sequence[int]]) -> None:
        self.groups = {name: list(pids) for name, pids in groups.items()}
        self._start = self._per_pid()
        self._machine_start = _machine_ticks()

    def _per_pid(self) -> dict[int, int | None]:
        return {pid: _process_ticks(pid) for pids in self.groups.values() for pid in pids}

    def result(self) -> dict[str, object]:
        """CPU seconds per group since creation, and the machine's busy share.

        A process that exited meanwhile (uvicorn kills a worker that misses its
        health check) is listed; its time is lost with it, so it counts as 0.
        """
        end = self._per_pid()
        start_busy, start_total = self._machine_start
        end_busy, end_total = _machine_ticks()
        elapsed = max(end_total - start_total, 1)

        def used(pid: int) -> int:
            before, after = self._start[pid], end[pid]
            return 0 if before is None or after is None else after - before

        per_group = {name: sum(used(pid) for pid in pids) for name, pids in self.groups.items()}
        busy = end_busy - start_busy
        return {
            "cpu_seconds": {name: round(ticks / TICKS, 2) for name, ticks in per_group.items()},
            "machine_busy_percent": round(100 * busy / elapsed, 1),
            # Busy time that none of the measured processes account for: other work.
            "others_percent": round(100 * max(busy - sum(per_group.values()), 0) / elapsed, 1),
            "exited": sorted(pid for pid, ticks in end.items() if ticks is None),
        }
