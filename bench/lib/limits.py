"""Open-file limits: every socket is a file, and a fan-out holds thousands at once."""

from __future__ import annotations

import resource
from pathlib import Path

# Used when the hard limit is unlimited: a finite soft limit that is plenty.
UNLIMITED_FALLBACK = 1 << 20


def raise_open_files() -> int:
    """Raise this process's soft RLIMIT_NOFILE to the hard limit; return the new soft limit.

    Children (subprocess, multiprocessing) inherit it, which is how the servers
    started by the harness get it too: no preexec_fn, which is unsafe once the
    parent has threads (multiprocessing queues start feeder threads).
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = UNLIMITED_FALLBACK if hard == resource.RLIM_INFINITY else hard
    if soft == resource.RLIM_INFINITY or soft >= target:
        return soft
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


def open_file_limit_of(pid: int) -> int | None:
    """The soft open-file limit of another process, read from /proc (Linux)."""
    try:
        for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
            if line.startswith("Max open files"):
                value = line.split()[3]
                return UNLIMITED_FALLBACK if value == "unlimited" else int(value)
    except OSError:
        return None
    return None
