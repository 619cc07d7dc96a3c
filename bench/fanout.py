"""Benchmark 1, fan-out to one ticket: S subscribers of `messageAdded` on one ticket.

For each S: a fresh deployment (MariaDB database, Redis prefix, `ticketing
serve --workers 2`), client processes holding S WebSocket subscriptions
spread over them, a warm-up message that every subscriber must receive, then

- steady: `--messages` messages at `--rate` per second (`sendMessage` over
  HTTP from a separate sender process): latency p50/p99/max over all
  deliveries, lost and duplicated deliveries;
- back to back: `--burst-messages` messages as fast as `--burst-senders`
  concurrent senders go: deliveries per second, and latency.

The same clients then measure the same phases against the two references,
the ceiling (reference_ws_broadcast.py) and the naive path
(reference_naive.py), and our result is reported as a ratio to each.

    .venv/bin/python bench/fanout.py --subscribers 1000

Results: bench/results/fanout-<timestamp>.json and rows in docs/performance.md.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from lib import api, machine, report, stores
from lib.cpu import CpuMeter, pid_listening_on
from lib.deployment import check_clean, deployment
from lib.limits import raise_open_files
from lib.profiling import Profiles
from lib.protocol import BURST, STEADY
from lib.routes import routes_between
from lib.sender import Sender
from lib.stats import phase_summary
from lib.subscribers import ConnectSpec, Subscribers
from lib.targets import Ceiling, Naive, Ours, Target, templates
from lib.workers import WorkerPool

WARMUP_INTERVAL_SECONDS = 1.0
SETTLE_SECONDS = 1.0  # between phases, so one phase's tail does not overlap the next
QUIET_SECONDS = 15.0  # a phase is over when nothing more has arrived for this long
PHASE_LIMIT_SECONDS = 900.0
PHASE_NAMES = {STEADY: "steady", BURST: "burst"}


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--subscribers",
        default="100,1000,5000,10000",
        help="comma-separated values of S, each a separate run (default %(default)s)",
    )
    parser.add_argument("--rate", type=float, default=20.0, help="steady messages per second")
    parser.add_argument("--messages", type=int, default=200, help="steady messages")
    parser.add_argument("--burst-messages", type=int, default=200, help="back-to-back messages")
    parser.add_argument("--burst-senders", type=int, default=4, help="concurrent senders")
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument(
        "--connect-concurrency", type=int, default=64, help="handshakes in flight per client"
    )
    parser.add_argument(
        "--no-references", action="store_true", help="measure our server only (no ratios)"
    )
    parser.add_argument("--no-docs", action="store_true", help="leave docs/performance.md alone")
    parser.add_argument(
        "--profile", action="store_true", help="sample the server workers with py-spy per phase"
    )
    parser.add_argument("--note", default="", help="a note for the docs table (e.g. 'busy')")
    return parser.parse_args()


def _split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if index < total % parts else 0) for index in range(parts)]


@dataclass
class Bench:
    """The processes one size runs with: the same clients and sender for every target."""

    clients: WorkerPool
    sender: WorkerPool
    subscribers: int
    args: argparse.Namespace
    ticket_id: str  # every target is asked for the same subscription, byte for byte


def _connect(bench: Bench, target: Target) -> dict[str, Any]:
    """Open S subscriptions over the client processes; fail unless all of them opened."""
    clients = bench.clients
    subscribe = {"query": api.MESSAGE_ADDED, "variables": {"ticketId": bench.ticket_id}}
    phases = {STEADY: bench.args.messages, BURST: bench.args.burst_messages}
    payloads = target.init_payloads(len(clients))
    counts = _split(bench.subscribers, len(clients))
    specs = [
        (
            ConnectSpec(
                target.ws_url, payload, subscribe, count, bench.args.connect_concurrency, phases
            ),
        )
        for payload, count in zip(payloads, counts, strict=True)
    ]
    connected = clients.call("connect", specs, timeout=120 + bench.subscribers / 10)
    failed = sum(part["failed"] for part in connected)
    if failed:
        raise RuntimeError(f"{failed} subscribers failed to connect: {connected}")
    spread = target.server().workers()
    print(f"  {target.name}: connected; sockets per process {spread}", flush=True)
    return {
        "connect_seconds": round(max(part["seconds"] for part in connected), 2),
        "server_processes": spread,
    }


def _warm_up(bench: Bench) -> str:
    """Send warm-up messages until every subscriber has received one (a subscription
    is only known to be live once something has come through it); return a frame."""
    limit = 60 + bench.subscribers / 50
    bench.sender.call_all("warmup_start", WARMUP_INTERVAL_SECONDS, timeout=30)
    try:
        warm = bench.clients.call_all("warm", limit, timeout=limit + 30)
    finally:
        bench.sender.call_all("warmup_stop", timeout=60)
    if any(part["warm"] < part["of"] for part in warm):
        raise RuntimeError(f"not every subscriber got a warm-up message: {warm}")
    time.sleep(SETTLE_SECONDS)  # the last warm-ups still in flight
    return str(next(part["sample"] for part in warm if part["sample"]))


def _phase(bench: Bench, target: Target, tag: str, groups: dict[str, list[int]]) -> dict[str, Any]:
    """Send one phase's messages, wait for the deliveries, summarize."""
    args = bench.args
    label = PHASE_NAMES[tag]
    workers = groups["server"][1:]
    profiles = Profiles(workers, f"fanout-S{bench.subscribers}-{target.name}-{label}")
    speed_ms = machine.calibration_ms()
    routes_before = target.routes(args.workers)
    meter = CpuMeter(groups)
    with profiles if args.profile else contextlib.nullcontext():
        if tag == STEADY:
            command: tuple[Any, ...] = ("steady", tag, args.messages, args.rate)
        else:
            command = ("burst", tag, args.burst_messages, args.burst_senders)
        sent = bench.sender.call_all(*command, timeout=PHASE_LIMIT_SECONDS)[0]
        collected = bench.clients.call_all(
            "collect",
            tag,
            sent["failed"],
            QUIET_SECONDS,
            PHASE_LIMIT_SECONDS,
            timeout=PHASE_LIMIT_SECONDS + 60,
        )
    summary = phase_summary(collected, sent)
    summary["cpu"] = meter.result()
    summary["calibration_ms"] = speed_ms
    routes_after = target.routes(args.workers)
    if routes_before is not None and routes_after is not None:
        summary["routes"] = routes_between(routes_before, routes_after)
    # uvicorn's supervisor kills a worker that misses its 5 s health check and
    # starts another: its sockets (and their deliveries) are gone with it.
    summary["server_workers_replaced"] = sorted(
        set(workers) - {int(w["pid"]) for w in target.server().workers() if w["pid"]}
    )
    if args.profile:
        summary["profile"] = profiles.hottest()
    latency = summary["latency_ms"]
    print(
        f"  {target.name} {label}: p50 {latency['p50']} ms, p99 {latency['p99']} ms, "
        f"max {latency['max']} ms, {summary['deliveries_per_s']} deliveries/s, "
        f"lost {summary['lost']}, dup {summary['dup']}, cpu {summary['cpu']}, "
        f"workers replaced {summary['server_workers_replaced']}, "
        f"routes {summary.get('routes', '-')}, calibration {speed_ms} ms",
        flush=True,
    )
    time.sleep(SETTLE_SECONDS)
    return summary


def _measure(bench: Bench, target: Target) -> dict[str, Any]:
    """Connect S subscribers to the target, warm up, run both phases, disconnect."""
    print(f"  {target.name}: starting", flush=True)
    target.start(len(bench.clients))
    try:
        bench.sender.call_all("configure", target.sender_config(), timeout=30)
        results = _connect(bench, target)
        sample = _warm_up(bench)
        results |= {"sample_frame": sample, "frame_bytes": len(sample.encode())}
        groups = {
            "server": [target.server().pid, *(w["pid"] for w in results["server_processes"])],
            "clients": bench.clients.pids,
            "sender": bench.sender.pids,
            "redis": pid_listening_on(urlsplit(stores.REDIS_URL).port or 6379),
            "mariadb": pid_listening_on(urlsplit(stores.MARIADB_URL).port or 3306),
        }
        for tag, label in PHASE_NAMES.items():
            results[label] = _phase(bench, target, tag, groups)
        bench.clients.call_all("close", timeout=180)
        return results
    finally:
        target.stop()


def _ratio(ours: float | None, reference: float | None) -> float | None:
    if not ours or not reference:
        return None
    return round(ours / reference, 2)


def _ratios(targets: dict[str, Any]) -> dict[str, Any]:
    """Latency ratios are ours / reference (1 is as good, higher is slower);
    throughput ratios are ours / reference (1 is as good, lower is slower)."""
    ours = targets["ours"]
    ratios = {}
    for name in ("ceiling", "naive"):
        reference = targets.get(name)
        if reference is None:
            continue
        ratios[name] = {
            "steady_p50": _ratio(
                ours["steady"]["latency_ms"]["p50"], reference["steady"]["latency_ms"]["p50"]
            ),
            "steady_p99": _ratio(
                ours["steady"]["latency_ms"]["p99"], reference["steady"]["latency_ms"]["p99"]
            ),
            "burst_p99": _ratio(
                ours["burst"]["latency_ms"]["p99"], reference["burst"]["latency_ms"]["p99"]
            ),
            "burst_deliveries_per_s": _ratio(
                ours["burst"]["deliveries_per_s"], reference["burst"]["deliveries_per_s"]
            ),
        }
    return ratios


def _run_size(subscribers: int, args: argparse.Namespace) -> dict[str, Any]:
    print(f"S={subscribers}", flush=True)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    load_before = machine.load_average()
    targets: dict[str, Any] = {}
    with deployment(workers=args.workers, purpose="fanout") as running:
        clients = WorkerPool(Subscribers, args.clients, "bench-client").start()
        sender = WorkerPool(Sender, 1, "bench-sender").start()
        bench = Bench(clients, sender, subscribers, args, running.ticket_id)
        try:
            targets["ours"] = _measure(bench, Ours(running))
            if not args.no_references:
                # The references send the very frame our server sent, body swapped.
                frame, row = templates(targets["ours"]["sample_frame"])
                targets["ceiling"] = _measure(bench, Ceiling(running, frame))
                targets["naive"] = _measure(bench, Naive(running, row))
        finally:
            clients.stop()
            sender.stop()
    return {
        "subscribers": subscribers,
        "started": started,
        "load_average_before": load_before,
        "load_average_after": machine.load_average(),
        "targets": targets,
        "ratios": _ratios(targets),
        "teardown": check_clean(running),
    }


def _ms(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.1f} ms" if value < 100 else f"{value:,.0f} ms"


def _times(ratio: float | None) -> str:
    if ratio is None:
        return "-"
    return f"x{ratio:,.0f}" if ratio >= 10 else f"x{ratio:.2g}"


def _rows(run: dict[str, Any], args: argparse.Namespace) -> list[dict[str, str]]:
    ours = run["targets"]["ours"]
    ratios = run["ratios"]
    date = run["started"][:10]
    rows = []
    for label, phase, rate in (
        ("fan-out steady", ours["steady"], f"{args.rate:g}/s"),
        ("fan-out back-to-back", ours["burst"], f"max, {args.burst_senders} senders"),
    ):
        row = {
            "benchmark": label,
            "S": str(run["subscribers"]),
            "rate": rate,
            "p50": _ms(phase["latency_ms"]["p50"]),
            "p99": _ms(phase["latency_ms"]["p99"]),
            "max": _ms(phase["latency_ms"]["max"]),
            "deliveries/s": f"{phase['deliveries_per_s'] or 0:,}",
            "lost": str(phase["lost"]),
            "dup": str(phase["dup"]),
            "date": date,
            # How much of the machine other work took during the phase: a result
            # measured beside someone's test suite is not a result to compare.
            "note": "; ".join(
                filter(
                    None,
                    [
                        args.note,
                        f"others {phase['cpu']['others_percent']}% CPU",
                        f"calibration {phase['calibration_ms']} ms",
                    ],
                )
            ),
        }
        for name, column in (("ceiling", "vs ceiling"), ("naive", "vs naive")):
            ratio = ratios.get(name)
            if ratio is None:
                row[column] = "-"
            elif label == "fan-out steady":
                row[column] = f"p99 {_times(ratio['steady_p99'])}"
            else:
                row[column] = f"d/s {_times(ratio['burst_deliveries_per_s'])}"
        rows.append(row)
    return rows


def main() -> int:
    args = _arguments()
    raise_open_files()
    sizes = [int(value) for value in args.subscribers.split(",") if value.strip()]
    stamp = report.timestamp()
    document: dict[str, Any] = {
        "benchmark": "fanout",
        "machine": machine.describe(),
        "parameters": {key: value for key, value in vars(args).items() if key != "note"},
        "note": args.note,
        "runs": [],
    }
    for subscribers in sizes:
        run = _run_size(subscribers, args)
        document["runs"].append(run)
        # Written after every size, so a long run that fails late keeps what it measured.
        path = report.write_json("fanout", stamp, document)
        if not args.no_docs:
            report.upsert_rows(_rows(run, args))
        print(f"S={subscribers}: written to {path}; teardown {run['teardown']}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
