"""The cyclic garbage collector, tuned for a worker that holds thousands of sockets.

Measured with `bench/spread.py` (about 2,000 sockets per worker, CPython's
defaults): a full collection (generation 2) walked the whole heap in 350 to
460 ms, pausing every request and every delivery of the worker, about every
15 s under load: the 1% of chat deliveries that arrived half a second late.
Two changes, made once a worker has started:

- `gc.freeze()`: what start-up made (modules, the schema, the ORM's
  metadata) lives as long as the process; moved to the permanent generation,
  it is never walked again.
- a first-generation threshold of 10,000 allocations instead of 700: most of
  what a request or an event allocates is gone before a collection runs, so
  far less survives into the older generations, and the full collections
  that walk the whole heap come rarely.

With both, the same benchmark's steady p99 fell from 203-591 ms to 19 ms
(max 53 ms), and the longest pause seen was a 115 ms generation-1 collection.
"""

from __future__ import annotations

import gc
import time
from typing import Any

THRESHOLDS = (10_000, 10, 10)


class Pauses:
    """How long the collector paused this process, by generation (for /diagnostics).

    A collection stops every request and delivery of the worker; a fan-out
    run's latency tail shows whether one fell inside it.
    """

    def __init__(self) -> None:
        self.count = [0, 0, 0]
        self.seconds = [0.0, 0.0, 0.0]
        self.longest = [0.0, 0.0, 0.0]
        self._started = 0.0
        self._asked = False

    def collect_uncounted(self) -> None:
        """`gc.collect()`, left out of the counts (it is asked for, not a pause of load)."""
        self._asked = True
        try:
            gc.collect()
        finally:
            self._asked = False

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if self._asked:
            return
        if phase == "start":
            self._started = time.perf_counter()
            return
        generation = int(info["generation"])
        took = time.perf_counter() - self._started
        self.count[generation] += 1
        self.seconds[generation] += took
        self.longest[generation] = max(self.longest[generation], took)

    def stats(self) -> dict[str, list[float]]:
        return {
            "collections": list(self.count),
            "pause_ms": [round(s * 1000, 1) for s in self.seconds],
            "longest_ms": [round(s * 1000, 1) for s in self.longest],
        }


PAUSES = Pauses()


def tune_for_serving() -> None:
    """Freeze what exists now and raise the first threshold (call once per worker)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
    if PAUSES not in gc.callbacks:
        gc.callbacks.append(PAUSES)
