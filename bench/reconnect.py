"""Benchmark 6, reconnect storm: S subscribers of one ticket drop at once and resume with `after`.

A fresh deployment (MariaDB database, Redis prefix, `ticketing serve
--workers 2`), S subscriptions of `messageAdded(ticketId)` spread over the
client processes, and a sender process that sends `sendMessage` at a steady
rate from before the storm until after it. Once every subscriber receives
messages, every socket of every client is aborted at the same instant; each
subscriber reconnects at once (at most `--concurrency` handshakes in flight
per client process) and subscribes with `after: <the last id it received>`.

Measures: the time from the drop until every subscriber has caught up (has
received the first message sent after its new subscribe, and so, the stream
being in order, all before it); the lost and duplicated messages per
subscriber, checked against the ids the sender's `sendMessage` returned.
Target (issue 6): S = 5,000 caught up within 15 s, 0 lost, 0 duplicated.

    .venv/bin/python bench/reconnect.py --subscribers 5000

Results: bench/results/reconnect-<timestamp>.json and a row in docs/performance.md.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from array import array
from typing import Any
from urllib.parse import urlsplit

from lib import machine, report, rss, serverlog, stores
from lib.cpu import CpuMeter, pid_listening_on
from lib.deployment import Deployment, check_clean, deployment
from lib.limits import raise_open_files
from lib.profiling import Profiles
from lib.stats import percentile
from lib.storm import StormClients, StormSender, StormSpec
from lib.workers import WorkerPool

TARGET_SECONDS = 15.0
QUIET_SECONDS = 15.0
TABLE = "reconnect"
COLUMNS = (
    "benchmark",
    "S",
    "rate",
    "resubscribed (max)",
    "caught up (p50)",
    "caught up (max)",
    "lost",
    "dup",
    "target",
    "date",
    "note",
)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=5000, help="S (default %(default)s)")
    parser.add_argument("--rate", type=float, default=20.0, help="messages per second")
    parser.add_argument(
        "--max-in-flight",
        type=int,
        default=8,
        help="sendMessage calls waiting at once; a tick beyond is skipped (default %(default)s)",
    )
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument(
        "--sessions",
        type=int,
        default=0,
        help="log-in sessions spread over the subscribers (default: one per client process)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=250,
        help="handshakes in flight per client process, at connect and at the storm",
    )
    parser.add_argument(
        "--before", type=float, default=10.0, help="seconds of live messages before the drop"
    )
    parser.add_argument(
        "--after", type=float, default=5.0, help="seconds of live messages once all caught up"
    )
    parser.add_argument(
        "--limit", type=float, default=120.0, help="give up waiting for the catch-up after this"
    )
    parser.add_argument(
        "--profile", action="store_true", help="sample the server workers with py-spy in the storm"
    )
    parser.add_argument("--no-docs", action="store_true", help="leave docs/performance.md alone")
    parser.add_argument("--note", default="", help="a note for the docs table (e.g. 'busy')")
    return parser.parse_args()


def _split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if index < total % parts else 0) for index in range(parts)]


def _seconds(parts: list[dict[str, Any]], key: str) -> list[float]:
    values = array("d")
    for part in parts:
        values.frombytes(part[key])
    return sorted(values)


def _distribution(ordered: list[float]) -> dict[str, float | None]:
    if not ordered:
        return {"p50": None, "p99": None, "max": None}
    return {
        "p50": round(percentile(ordered, 0.5), 3),
        "p99": round(percentile(ordered, 0.99), 3),
        "max": round(ordered[-1], 3),
    }


def _workers(running: Deployment) -> list[dict[str, Any]]:
    """Each worker's pid, sockets and memory (a storm that leaks shows here)."""
    workers = set(rss.worker_pids(running.server.pid))
    return [
        {**worker, "rss_kib": rss.rss_kib(pid), "pss_kib": rss.pss_kib(pid)}
        for worker in running.server.workers()
        if (pid := worker["pid"]) in workers
    ]


def _run(running: Deployment, args: argparse.Namespace) -> dict[str, Any]:
    sessions = args.sessions or args.clients
    tokens = running.user_tokens(sessions)
    payloads = [{"authorization": f"Bearer {token}"} for token in tokens]
    clients = WorkerPool(StormClients, args.clients, "bench-storm-client").start()
    sender = WorkerPool(StormSender, 1, "bench-storm-sender").start()
    sending = False
    try:
        specs = [
            (
                StormSpec(
                    running.ws_url,
                    payloads[index :: args.clients] or [payloads[index % sessions]],
                    running.ticket_id,
                    count,
                    args.concurrency,
                ),
            )
            for index, count in enumerate(_split(args.subscribers, args.clients))
        ]
        print(f"connecting {args.subscribers} subscribers", flush=True)
        connected = clients.call("connect", specs, timeout=300)
        if any(part["failed"] for part in connected):
            raise RuntimeError(f"subscribers failed to connect: {connected}")
        print(f"  connected in {max(p['seconds'] for p in connected)} s", flush=True)
        sender.call_all(
            "configure", running.graphql_url, running.admin_token, running.ticket_id, timeout=30
        )
        sender.call_all("start", args.rate, args.max_in_flight, timeout=30)
        sending = True
        warm = clients.call_all("warm", args.limit, timeout=args.limit + 30)
        if any(part["warm"] < part["of"] for part in warm):
            raise RuntimeError(f"not every subscriber received a message: {warm}")
        print(f"  every subscriber receives; {args.before:g} s of live messages", flush=True)
        time.sleep(args.before)
        workers_before = _workers(running)
        groups = {
            "server": [running.server.pid, *(int(w["pid"]) for w in workers_before)],
            "clients": clients.pids,
            "sender": sender.pids,
            "redis": pid_listening_on(urlsplit(stores.REDIS_URL).port or 6379),
            "mariadb": pid_listening_on(urlsplit(stores.MARIADB_URL).port or 3306),
        }
        log_offset = serverlog.size(running.server.log_path)
        meter = CpuMeter(groups)
        profiles = Profiles(groups["server"][1:], f"reconnect-S{args.subscribers}-storm")
        drop_at = time.time() + 1.0
        print("  storm: every socket dropped at once", flush=True)
        with profiles if args.profile else contextlib.nullcontext():
            storm = clients.call_all("storm", drop_at, args.limit, timeout=args.limit + 60)
            resubscribed = _seconds(storm, "resubscribe_seconds")
            print(f"  resubscribed: {_distribution(resubscribed)} s after the drop", flush=True)
            caught = clients.call_all("caught", drop_at, args.limit, timeout=args.limit + 60)
        cpu = meter.result()
        workers_after_catch_up = _workers(running)
        catch_up = _seconds(caught, "catch_up_seconds")
        all_caught = sum(p["caught"] for p in caught) == args.subscribers
        print(
            f"  caught up: {sum(p['caught'] for p in caught)} of {args.subscribers}, "
            f"{_distribution(catch_up)} s after the drop",
            flush=True,
        )
        time.sleep(args.after)
        sent = sender.call_all("stop", timeout=120)[0]
        sending = False
        finished = clients.call_all(
            "finish", sent["ids"], QUIET_SECONDS, args.limit, timeout=args.limit + 60
        )
        workers_after = _workers(running)
        clients.call_all("close", timeout=120)
    finally:
        if sending:  # an error above: stop sending, without hiding that error
            with contextlib.suppress(Exception):
                sender.call_all("stop", timeout=120)
        clients.stop()
        sender.stop()

    def total(key: str) -> int:
        return sum(int(part[key]) for part in finished)

    return {
        "sessions": sessions,
        "connect": connected,
        "workers_before": workers_before,
        "workers_after_catch_up": workers_after_catch_up,
        "workers_after": workers_after,
        # uvicorn's supervisor kills a worker that misses its 5 s health check (a
        # blocked event loop) and starts another: its sockets all drop at once.
        "workers_replaced": sorted(
            {int(w["pid"]) for w in workers_before} - {int(w["pid"]) for w in workers_after}
        ),
        "storm": {
            "drop_lag_ms_max": max(p["drop_lag_ms"] for p in storm),
            "resubscribed": sum(p["resubscribed"] for p in storm),
            "still_reconnecting_at_limit": sum(p["still_reconnecting"] for p in storm),
            "failed": sum(p["failed"] for p in storm),
            "first_failure": next((p["first_failure"] for p in storm if p["first_failure"]), None),
            "connection_attempts": sum(p["attempts"] for p in storm),
            "without_after": sum(p["without_after"] for p in storm),
            "resubscribe_seconds": _distribution(resubscribed),
        },
        "catch_up": {
            "all_caught_up": all_caught,
            "caught": sum(p["caught"] for p in caught),
            "seconds": _distribution(catch_up),
            "first_frame_seconds": _distribution(_seconds(caught, "first_frame_seconds")),
            "replayed_messages": sum(p["replayed"] for p in caught),
            "replayed_max_per_subscriber": max(p["replayed_max"] for p in caught),
        },
        "cpu_storm": cpu,
        "profile_storm": profiles.hottest() if args.profile else None,
        "messages": {k: v for k, v in sent.items() if k != "ids"} | {"created": len(sent["ids"])},
        "check": {
            "lost_after_drop": total("lost_after_drop"),
            "lost_before_drop": total("lost_before_drop"),
            "dup": total("dup"),
            "out_of_order": total("out_of_order"),
            "unknown_ids": total("unknown"),
            "subscribers_with_loss": total("subscribers_with_loss"),
            "subscribers_with_dup": total("subscribers_with_dup"),
            "deliveries": total("deliveries"),
            "behind_at_end": total("behind"),
            "subscribers_behind_at_end": total("subscribers_behind"),
            "not_reconnected_at_end": total("not_reconnected"),
            "example": next((p["example"] for p in finished if p["example"]), None),
            "errors": total("errors"),
            "error_sample": next((p["error_sample"] for p in finished if p["error_sample"]), None),
            "server_closed_before": sum(p["server_closed"]["before"] for p in finished),
            "server_closed_after": sum(p["server_closed"]["after"] for p in finished),
            "subscriptions_ended_by_server_before": sum(
                p["ended_by_server"]["before"] for p in finished
            ),
            "subscriptions_ended_by_server_after": sum(
                p["ended_by_server"]["after"] for p in finished
            ),
            "reconnect_failures": total("reconnect_failures"),
            "failure_sample": next(
                (p["failure_sample"] for p in finished if p["failure_sample"]), None
            ),
            "latency_before_drop_ms": [p["latency_before_drop_ms"] for p in finished],
            "latency_after_catch_up_ms": [p["latency_after_catch_up_ms"] for p in finished],
        },
        "server_log_storm": serverlog.summarize(running.server.log_path, log_offset),
    }


def _row(document: dict[str, Any], args: argparse.Namespace) -> dict[str, str]:
    run = document["run"]
    check = run["check"]
    seconds = run["catch_up"]["seconds"]
    caught_max = (
        f"{seconds['max']:.1f} s"
        if run["catch_up"]["all_caught_up"]
        else f"not all ({run['catch_up']['caught']}) in {args.limit:g} s"
    )
    lost = check["lost_after_drop"] + check["lost_before_drop"]
    behind = check["behind_at_end"]
    met = (
        run["catch_up"]["all_caught_up"]
        and seconds["max"] <= TARGET_SECONDS
        and lost == 0
        and behind == 0
        and check["dup"] == 0
    )
    cpu = run["cpu_storm"]
    return {
        "benchmark": "reconnect storm",
        "S": str(args.subscribers),
        "rate": f"{args.rate:g}/s",
        "resubscribed (max)": (
            f"{run['storm']['resubscribe_seconds']['max']:.1f} s"
            if run["storm"]["resubscribed"] == args.subscribers
            else f"not all ({run['storm']['resubscribed']}) in {args.limit:g} s"
        ),
        "caught up (p50)": f"{seconds['p50']:.1f} s" if seconds["p50"] is not None else "-",
        "caught up (max)": caught_max,
        "lost": str(lost) + (f" (+{behind} not yet delivered)" if behind else ""),
        "dup": str(check["dup"]),
        "target": f"≤ {TARGET_SECONDS:g} s, 0, 0: {'met' if met else 'missed'}",
        "date": document["started"][:10],
        "note": "; ".join(
            filter(
                None,
                [
                    args.note,
                    f"{args.concurrency} handshakes in flight per client x {args.clients}",
                    f"{len(run['workers_replaced'])} workers killed by uvicorn"
                    if run["workers_replaced"]
                    else "",
                    f"calibration {document['calibration_ms']} ms",
                    f"load {document['load_average_before'][0]}",
                    f"others {cpu['others_percent']}% CPU",
                ],
            )
        ),
    }


def main() -> int:
    args = _arguments()
    raise_open_files()
    stamp = report.timestamp()
    document = report.new_document("reconnect", args)
    with deployment(workers=args.workers, purpose="reconnect") as running:
        try:
            document["run"] = _run(running, args)
        finally:
            document["server_log"] = serverlog.summarize(running.server.log_path)
            document["server_log_path"] = str(running.server.log_path)
    document["load_average_after"] = machine.load_average()
    document["teardown"] = check_clean(running)
    path = report.write_json("reconnect", stamp, document)
    if not args.no_docs:
        report.upsert_rows(
            [_row(document, args)], table=TABLE, columns=COLUMNS, key=("benchmark", "S", "rate")
        )
    catch_up, check = document["run"]["catch_up"], document["run"]["check"]
    print(
        f"caught up {catch_up['seconds']} s (all: {catch_up['all_caught_up']}); lost after "
        f"drop {check['lost_after_drop']}, before {check['lost_before_drop']}, dup "
        f"{check['dup']}; written to {path}; teardown {document['teardown']}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
