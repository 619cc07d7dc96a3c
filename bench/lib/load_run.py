"""One timed load run against a deployment: what the request benchmarks share.

The client processes (load.py) open their connections, load the server for a
warm-up (not recorded: first requests fill connection pools, caches and
uvicorn's worker balance), then for the timed window; CPU per component is
measured over the window only, and py-spy samples the workers if asked.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast
from urllib.parse import urlsplit

import httpx

from lib import machine, stores
from lib.cpu import CpuMeter, pid_listening_on
from lib.deployment import Deployment
from lib.load import ConnectionPlan, LoadClient, LoadSpec, split_plans, summary
from lib.processes import ManagedProcess, free_port
from lib.profiling import Profiles
from lib.workers import WorkerPool

START_DELAY_SECONDS = 0.5  # for every client process to be waiting when the window opens


def add_arguments(parser: argparse.ArgumentParser, concurrency: int) -> None:
    parser.add_argument("--seconds", type=float, default=30.0, help="timed window")
    parser.add_argument("--warmup", type=float, default=5.0, help="load before the window")
    parser.add_argument(
        "--concurrency", type=int, default=concurrency, help="requests in flight (connections)"
    )
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--no-docs", action="store_true", help="leave docs/performance.md alone")
    parser.add_argument(
        "--profile", action="store_true", help="sample the server workers with py-spy"
    )
    parser.add_argument("--note", default="", help="a note for the docs table")


@contextmanager
def counting_server(running: Deployment) -> Iterator[str]:
    """A second server (one worker) on the deployment's database, Redis prefix and
    secret, with `EXPOSE_SQL_STATEMENT_COUNT=true`: every response carries
    `extensions.sqlStatements`. A diagnostic, not a production setting, so it
    is never the server a timed run measures. Yields its GraphQL URL."""
    port = free_port()
    server = ManagedProcess(
        "ticketing serve (SQL statement count)",
        [sys.executable, "-m", "ticketing", "serve", "--port", str(port), "--workers", "1"],
        {**running.server.env, "EXPOSE_SQL_STATEMENT_COUNT": "true"},
        running.server.cwd,
        running.server.cwd / "sql-count-server.log",
    )
    base = f"http://127.0.0.1:{port}"
    server.start()
    try:
        server.wait_until(lambda: _ready(f"{base}/readyz"), timeout=60)
        yield f"{base}/graphql"
    finally:
        server.stop()


def _ready(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _window(pool: WorkerPool, seconds: float, record: bool) -> list[dict[str, Any]]:
    start_at = time.time() + START_DELAY_SECONDS
    answers: list[dict[str, Any]] = pool.call_all(
        "run", start_at, seconds, record, timeout=seconds + 120
    )
    return answers


def run_load(
    running: Deployment, plans: list[ConnectionPlan], args: argparse.Namespace, name: str
) -> dict[str, Any]:
    """Warm-up, then the timed window; the window's throughput, latency, errors and CPU."""
    speed_ms = machine.calibration_ms()  # before any load of ours
    pool = WorkerPool(LoadClient, args.clients, "bench-load").start()
    try:
        specs = [
            (LoadSpec(running.graphql_url, share),) for share in split_plans(plans, args.clients)
        ]
        pool.call("configure", specs, timeout=60)
        warm = _window(pool, args.warmup, record=False)
        workers = running.server.workers()
        groups = {
            "server": [running.server.pid, *(int(w["pid"] or 0) for w in workers)],
            "clients": pool.pids,
            "redis": pid_listening_on(urlsplit(stores.REDIS_URL).port or 6379),
            "mariadb": pid_listening_on(urlsplit(stores.MARIADB_URL).port or 3306),
        }
        profiles = Profiles(groups["server"][1:], name)
        load_before = machine.load_average()
        meter = CpuMeter(groups)
        with profiles if args.profile else contextlib.nullcontext():
            timed = _window(pool, args.seconds, record=True)
        cpu = meter.result()
    finally:
        pool.stop()
    result = summary(timed, args.seconds)
    result["warmup"] = {
        "seconds": args.warmup,
        "requests": sum(part["ok"] for part in warm),
        "errors": sum(part["errors"] for part in warm),
    }
    result["cpu"] = cpu
    result["cpu_share_percent"] = cpu_shares(cpu, args.seconds + START_DELAY_SECONDS)
    # What a request costs each component: steadier than requests/s on a busy machine.
    used = cast(dict[str, float], cpu["cpu_seconds"])
    result["cpu_ms_per_request"] = {
        name: round(1000 * seconds / max(result["requests"], 1), 2)
        for name, seconds in used.items()
    }
    result["server_processes"] = workers
    result["load_average_before"] = load_before
    result["calibration_ms"] = speed_ms
    result["load_average_after"] = machine.load_average()
    if args.profile:
        result["profile"] = profiles.hottest()
    return result


def cpu_shares(cpu: dict[str, Any], seconds: float) -> dict[str, float]:
    """Each component's CPU as a share of the whole machine (all cores) over the window."""
    capacity = seconds * (os.cpu_count() or 1)
    used: dict[str, float] = cpu["cpu_seconds"]
    return {name: round(100 * value / capacity, 1) for name, value in used.items()}


def ms(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.1f} ms" if value < 100 else f"{value:,.0f} ms"


def note(result: dict[str, Any], extra: str) -> str:
    """The docs table's note: the caller's, and how busy the machine was otherwise."""
    cpu = result["cpu"]
    load = result["load_average_before"][0]
    return "; ".join(
        filter(
            None,
            [
                extra,
                f"calibration {result['calibration_ms']} ms",
                f"others {cpu['others_percent']}% CPU, load {load:g} before",
            ],
        )
    )


def print_result(label: str, result: dict[str, Any]) -> None:
    latency = result["latency_ms"]
    print(
        f"{label}: {result['requests_per_s']:,} requests/s, p50 {latency['p50']} ms, "
        f"p99 {latency['p99']} ms, max {latency['max']} ms, errors {result['errors']}, "
        f"CPU share {result['cpu_share_percent']}, others {result['cpu']['others_percent']}%, "
        f"CPU ms per request {result['cpu_ms_per_request']}",
        flush=True,
    )
    if result["error_sample"]:
        print(f"  error sample: {result['error_sample'][:500]}", flush=True)
