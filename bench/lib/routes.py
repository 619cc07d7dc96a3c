"""How a server's live deliveries went, summed over its workers (/diagnostics).

A worker counts each delivery it made: written directly by a fan-out round,
or queued for the subscription's own task, by the reason (`fan_out`,
hub.Routes); and how long its garbage collector paused it (`gc`,
gc_tuning.Pauses). A phase's counts tell a cheap run from a dear one: more
queued and why, or a full collection inside it.
"""

from __future__ import annotations

from collections import Counter

import httpx

ATTEMPTS = 200


def fan_out_routes(base_url: str, workers: int) -> dict[str, float]:
    """Each worker's `fan_out` and collector counts, summed; fail unless all `workers` answered."""
    found: dict[int, dict[str, float]] = {}
    for _ in range(ATTEMPTS):
        # A new connection each time: the kernel hands each to one worker.
        with httpx.Client(timeout=30) as http:
            body = http.get(f"{base_url}/diagnostics").json()
        pauses = body["gc"]
        found[int(body["pid"])] = {
            **body["fan_out"],
            "gc_collections": sum(pauses["collections"]),
            "gc_pause_ms": sum(pauses["pause_ms"]),
            "gc_full_collections": pauses["collections"][2],
            "gc_full_pause_ms": pauses["pause_ms"][2],
        }
        if len(found) == workers:
            break
    else:
        raise RuntimeError(f"/diagnostics answered from {sorted(found)}, not {workers} workers")
    total: Counter[str] = Counter()
    for counts in found.values():
        total.update(counts)
    return {name: round(value, 1) for name, value in total.items()}


def routes_between(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """What happened between two readings, without the routes nobody took."""
    changed = {name: round(after[name] - before.get(name, 0), 1) for name in after}
    return {name: count for name, count in changed.items() if count}
