"""Percentiles and the summary of one phase over every client process."""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence
from typing import Any


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """Nearest rank: the smallest value with at least `fraction` of values at or below it."""
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def percentiles_ms(seconds: Sequence[float]) -> dict[str, float | None]:
    if not seconds:
        return {"p50": None, "p90": None, "p99": None, "max": None, "mean": None}
    ordered = sorted(seconds)
    return {
        "p50": round(percentile(ordered, 0.50) * 1000, 2),
        "p90": round(percentile(ordered, 0.90) * 1000, 2),
        "p99": round(percentile(ordered, 0.99) * 1000, 2),
        "max": round(ordered[-1] * 1000, 2),
        "mean": round(sum(ordered) / len(ordered) * 1000, 2),
    }


def phase_summary(collected: list[dict[str, Any]], sent: dict[str, Any]) -> dict[str, Any]:
    """One phase: latency over all deliveries, losses, duplicates and throughput.

    Throughput is every delivery over the time from the first send to the last
    receipt, so a server that falls behind is charged for the backlog it drains.
    """
    latencies = array("d")
    for part in collected:
        latencies.frombytes(part["latencies"])
    deliveries = sum(part["deliveries"] for part in collected)
    receipts = [part["last_receipt"] for part in collected if part["last_receipt"] is not None]
    duration = max(receipts) - sent["first_send"] if receipts else None
    return {
        "subscribers": sum(part["subscribers"] for part in collected),
        "messages_sent": sent["sent"],
        "send_failures": len(sent["failed"]),
        "expected": sum(part["expected"] for part in collected),
        "deliveries": deliveries,
        "lost": sum(part["lost"] for part in collected),
        "dup": sum(part["dup"] for part in collected),
        "latency_ms": percentiles_ms(latencies),
        "duration_s": round(duration, 3) if duration else None,
        "deliveries_per_s": round(deliveries / duration) if duration else None,
        "send_duration_s": round(sent["last_send"] - sent["first_send"], 3),
        "send_ms": sent["send_ms"],
        "send_error_sample": sent["error_sample"],
        "dropped_connections": sum(part["dropped_connections"] for part in collected),
        "protocol_errors": sum(part["errors"] for part in collected),
        "protocol_error_sample": next(
            (part["error_sample"] for part in collected if part["error_sample"]), None
        ),
    }
