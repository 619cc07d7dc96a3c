"""Unexpected errors are reported once per failure and window, however often they happen.

Every unexpected error used to write a traceback to the server log and an
ERROR entry (a `logAdded` event on every admin's screen) to the activity log:
a client that found one could repeat it 60 times in half a second and bury
both. Now occurrences of the same failure (the same exception type raised at
the same line) within a window share one reference: the first is reported in
full, the rest are counted, and when the window ends one more report says how
many there were. Distinct failures open in one window are capped too; beyond
the cap they share a single "overflow" failure. So a window holds at most
`2 * (max_open + 1)` reports, whatever the clients do.
"""

from __future__ import annotations

import traceback
import uuid
from dataclasses import dataclass, field

OVERFLOW = "overflow"


def fingerprint(error: BaseException) -> str:
    """What makes two errors the same failure: type and the line that raised it.

    Nothing a client chooses (aliases, operation names, input) goes into it,
    so no client can make each of its errors a failure of its own.
    """
    frames = traceback.extract_tb(error.__traceback__)
    where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"
    return f"{type(error).__module__}.{type(error).__qualname__}@{where}"


@dataclass(frozen=True, slots=True)
class Repeats:
    """A window that ended with occurrences beyond its first."""

    reference: str
    count: int


@dataclass(frozen=True, slots=True)
class Occurrence:
    reference: str
    first: bool  # report it in full: the first of its failure in this window
    ended: list[Repeats] = field(default_factory=list)


@dataclass(slots=True)
class _Window:
    reference: str
    opened_at: float
    repeats: int = 0


class FailureReports:
    def __init__(self, window_seconds: float, max_open: int = 100) -> None:
        self.window_seconds = window_seconds
        self._max_open = max_open
        self._open: dict[str, _Window] = {}

    def occurred(self, failure: str, now: float) -> Occurrence:
        ended = self.close_ended(now)
        if failure not in self._open and len(self._open) >= self._max_open:
            failure = OVERFLOW
        window = self._open.get(failure)
        if window is not None:
            window.repeats += 1
            return Occurrence(window.reference, first=False, ended=ended)
        reference = uuid.uuid4().hex[:12]
        self._open[failure] = _Window(reference, now)
        return Occurrence(reference, first=True, ended=ended)

    def close_ended(self, now: float) -> list[Repeats]:
        """Close the windows that have ended; those with repeats are to be reported."""
        ended = [
            key
            for key, window in self._open.items()
            if now - window.opened_at >= self.window_seconds
        ]
        closed = [self._open.pop(key) for key in ended]
        return [Repeats(w.reference, w.repeats) for w in closed if w.repeats]
