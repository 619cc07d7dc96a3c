"""Optional sampling profiles of the server's workers with py-spy, during a phase.

`pip install py-spy` into the venv; then `fanout.py --profile` writes one
collapsed-stack file per worker and phase (flamegraph.pl or speedscope read
them) to bench/results/, and lists the hottest functions in the results.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

from lib.report import RESULTS

SAMPLES_PER_SECOND = 100


def py_spy() -> str | None:
    beside_python = Path(sys.executable).with_name("py-spy")
    return str(beside_python) if beside_python.exists() else shutil.which("py-spy")


class Profiles:
    """py-spy attached to each pid while the context is open."""

    def __init__(self, pids: list[int], name: str) -> None:
        self.pids = pids
        self.paths = [RESULTS / "profiles" / f"{name}-{pid}.txt" for pid in pids]
        self.processes: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> Profiles:
        executable = py_spy()
        if executable is None:
            raise RuntimeError("--profile needs py-spy: .venv/bin/pip install py-spy")
        for pid, path in zip(self.pids, self.paths, strict=True):
            path.parent.mkdir(parents=True, exist_ok=True)
            self.processes.append(
                subprocess.Popen(  # noqa: S603 (argv is ours)
                    [
                        executable,
                        "record",
                        "--pid",
                        str(pid),
                        "--rate",
                        str(SAMPLES_PER_SECOND),
                        "--format",
                        "raw",
                        "--nolineno",  # one entry per function, not per line
                        "--output",
                        str(path),
                        "--nonblocking",  # never pause the server it measures
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        return self

    def __exit__(self, *_: object) -> None:
        for process in self.processes:
            process.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def hottest(self, count: int = 25) -> dict[str, object]:
        """Functions by share of samples they appear in (inclusive), over all workers."""
        inclusive: Counter[str] = Counter()
        leaf: Counter[str] = Counter()
        total = 0
        for path in self.paths:
            with contextlib.suppress(OSError):
                for line in path.read_text().splitlines():
                    stack, _, samples = line.rpartition(" ")
                    if not samples.isdigit():
                        continue
                    weight = int(samples)
                    total += weight
                    frames = stack.split(";")
                    for frame in set(frames):
                        inclusive[frame] += weight
                    leaf[frames[-1]] += weight

        def share(samples: int) -> float:
            return round(100 * samples / max(total, 1), 1)

        return {
            "files": [str(path.relative_to(RESULTS.parent.parent)) for path in self.paths],
            "samples": total,
            "inclusive_percent": {f: share(n) for f, n in inclusive.most_common(count)},
            "self_percent": {f: share(n) for f, n in leaf.most_common(count)},
        }
