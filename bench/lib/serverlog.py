"""What the server logged during a run: warnings, errors and tracebacks, counted.

The server logs at `warning` in a benchmark (deployment.py), one record per line
in the format `<date> <time> LEVEL logger: message`, tracebacks following.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

RECORD = re.compile(r"^\S+ \S+ (WARNING|ERROR|CRITICAL) (\S+): (.*)$")
SAMPLES = 8


def summarize(log_path: Path, offset: int = 0) -> dict[str, object]:
    """Counts per level and logger from byte `offset` on, and the first distinct messages."""
    if not log_path.exists():
        return {"lines": 0}
    with log_path.open("rb") as log:
        log.seek(offset)
        text = log.read().decode(errors="replace")
    counts: Counter[str] = Counter()
    samples: dict[str, str] = {}
    tracebacks = 0
    lines = text.splitlines()
    for line in lines:
        if line.startswith("Traceback"):
            tracebacks += 1
        record = RECORD.match(line)
        if record is None:
            continue
        level, logger, message = record.groups()
        counts[f"{level} {logger}"] += 1
        # Group messages that differ only in numbers (addresses, ports, ids).
        shape = re.sub(r"\d+", "N", message)[:160]
        if shape not in samples and len(samples) < SAMPLES:
            samples[shape] = f"{level} {logger}: {message[:400]}"
    return {
        "lines": len(lines),
        "records": dict(counts.most_common()),
        "tracebacks": tracebacks,
        "samples": list(samples.values()),
    }


def size(log_path: Path) -> int:
    return log_path.stat().st_size if log_path.exists() else 0
