"""How a server's live deliveries went, summed over its workers (/diagnostics `fan_out`).

A worker counts each delivery it made: written directly by a fan-out round,
or queued for the subscription's own task, by the reason (hub.Routes). A
phase's counts tell a cheap run from a dear one: more queued, and why.
"""

from __future__ import annotations

from collections import Counter

import httpx

ATTEMPTS = 200


def fan_out_routes(base_url: str, workers: int) -> dict[str, int]:
    """Each worker's `fan_out` counts, summed; fail unless all `workers` answered."""
    found: dict[int, dict[str, int]] = {}
    for _ in range(ATTEMPTS):
        # A new connection each time: the kernel hands each to one worker.
        with httpx.Client(timeout=30) as http:
            body = http.get(f"{base_url}/diagnostics").json()
        found[int(body["pid"])] = body["fan_out"]
        if len(found) == workers:
            break
    else:
        raise RuntimeError(f"/diagnostics answered from {sorted(found)}, not {workers} workers")
    total: Counter[str] = Counter()
    for counts in found.values():
        total.update(counts)
    return dict(total)


def routes_between(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """What happened between two readings, without the routes nobody took."""
    changed = {name: after[name] - before.get(name, 0) for name in after}
    return {name: count for name, count in changed.items() if count}
