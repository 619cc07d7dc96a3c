"""What a benchmark message body says, and how a subscriber reads it back.

Every body carries its phase, its sequence number and the sender's time.time()
taken just before it was sent, in a fixed width so that every frame of a run
has the same size:  "bench p=s seq=000017 t=1795373735.123456".
All processes run on one machine, so one clock serves sender and subscribers.
"""

from __future__ import annotations

import re

WARMUP = "w"  # sent until every subscriber has received one
STEADY = "s"  # at a fixed rate
BURST = "b"  # back to back
MARK = re.compile(r"p=([a-z]) seq=(\d+) t=(\d+\.\d+)")
# Stands for the body in a pre-serialized frame or row (the reference servers).
BODY_SLOT = "@@BODY@@"


def body(phase: str, seq: int, sent: float) -> str:
    return f"bench p={phase} seq={seq:06d} t={sent:.6f}"
