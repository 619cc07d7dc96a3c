"""Which server code a result was measured on: the commit, and what differed from it.

Other work changes src/ while benchmarks run; a result names the commit and the
source files that were modified (uncommitted) at the time.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]


def _git(*args: str) -> str:
    done = subprocess.run(  # noqa: S603 (argv is ours)
        ["git", *args],  # noqa: S607 (git from PATH, as a developer runs it)
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return done.stdout.strip()


def describe() -> dict[str, object]:
    changed = _git("status", "--porcelain", "--", "src")
    return {
        "commit": _git("rev-parse", "HEAD"),
        "uncommitted_src": [line[3:] for line in changed.splitlines()],
    }
