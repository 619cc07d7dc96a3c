"""Benchmark 2, spread fan-out: many tickets, each watched by its owner and an admin.

`--tickets` tickets (2,000 by default), each with two `messageAdded`
subscriptions, its owner's and an admin's, each on its own socket: 4,000
sockets over the client processes and the server's two workers. Messages go
to random tickets (`sendMessage` over HTTP as the admin, from a separate
sender process), first at a steady `--rate`, then back to back from
`--burst-senders` concurrent senders. Latency is from just before each
sendMessage to each receipt at the two subscribers of its ticket; every
message must reach exactly those two (`lost`, `dup`, `misdelivered`).

    .venv/bin/python bench/spread.py                  # 2,000 tickets, 4,000 subscriptions
    .venv/bin/python bench/spread.py --tickets 100 --no-docs   # a quick check

Results: bench/results/spread-<timestamp>.json and rows in docs/performance.md.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import time
from array import array
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from lib import api, machine, report, stores
from lib.cpu import CpuMeter, pid_listening_on
from lib.deployment import ADMIN_EMAIL, PASSWORD, Deployment, check_clean, deployment
from lib.limits import raise_open_files
from lib.profiling import Profiles
from lib.protocol import BURST, STEADY
from lib.spread_clients import ADMIN, OWNER, SpreadSender, SpreadSpec, SpreadSubscribers, Watch
from lib.spread_seed import seed
from lib.stats import percentiles_ms, phase_summary
from lib.workers import WorkerPool

WARM_ROUND_WAIT_SECONDS = 3.0  # after a round of warm-up messages, before asking who is cold
WARM_ROUNDS = 10
SETTLE_SECONDS = 1.0
QUIET_SECONDS = 15.0
PHASE_LIMIT_SECONDS = 600.0
PHASE_NAMES = {STEADY: "steady", BURST: "burst"}
TABLE = "spread"
COLUMNS = (
    "benchmark",
    "tickets",
    "subscriptions",
    "rate",
    "p50",
    "p99",
    "max",
    "deliveries/s",
    "lost",
    "dup",
    "date",
    "note",
)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=2000, help="tickets (2 subscriptions each)")
    parser.add_argument(
        "--owners",
        type=int,
        default=200,
        help="distinct owners, ticket i owned by owner i %% owners (default %(default)s: 10 "
        "tickets each, the default maxOpenTicketsPerUser; above that it is raised through "
        "the API); --owners 2000 gives every ticket its own owner",
    )
    parser.add_argument(
        "--idle-seconds",
        type=float,
        default=10.0,
        help="CPU measured with every subscription open and no messages",
    )
    parser.add_argument("--rate", type=float, default=50.0, help="steady messages per second")
    parser.add_argument("--messages", type=int, default=1000, help="steady messages")
    parser.add_argument("--burst-messages", type=int, default=1000, help="back-to-back messages")
    parser.add_argument("--burst-senders", type=int, default=8, help="concurrent senders")
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument(
        "--connect-concurrency", type=int, default=64, help="handshakes in flight per client"
    )
    parser.add_argument(
        "--seed-concurrency", type=int, default=16, help="sign-ups/createTickets in flight"
    )
    parser.add_argument(
        "--warm-concurrency", type=int, default=8, help="warm-up sendMessages in flight"
    )
    parser.add_argument("--random-seed", type=int, default=2, help="seed of the ticket plan")
    parser.add_argument("--no-docs", action="store_true", help="leave docs/performance.md alone")
    parser.add_argument(
        "--profile", action="store_true", help="sample the server workers with py-spy per phase"
    )
    parser.add_argument("--note", default="", help="a note for the docs table (e.g. 'busy')")
    return parser.parse_args()


def _watches(
    running: Deployment, ticket_ids: list[str], owner_tokens: list[str], clients: int
) -> list[list[Watch]]:
    """Every ticket's owner and admin subscription, dealt out over the client processes.

    The admin holds one session per client process (as one person with a few
    browsers), each owner their own. Consecutive subscriptions go to
    consecutive processes: with two, one holds the owners' sockets and the
    other the admin's.
    """
    admin_tokens = [api.log_in(running.graphql_url, ADMIN_EMAIL, PASSWORD) for _ in range(clients)]
    per_client: list[list[Watch]] = [[] for _ in range(clients)]
    position = 0
    for ticket, ticket_id in enumerate(ticket_ids):
        for role in (OWNER, ADMIN):
            client = position % clients
            token = owner_tokens[ticket] if role == OWNER else admin_tokens[client]
            per_client[client].append(Watch(ticket, ticket_id, role, token))
            position += 1
    return per_client


def _warm_up(
    clients: WorkerPool, sender: WorkerPool, tickets: int, concurrency: int
) -> dict[str, Any]:
    """Warm-up messages to every ticket with a subscriber that has had none yet,
    round after round, until each of the subscriptions has received one."""
    cold = list(range(tickets))
    rounds: list[dict[str, Any]] = []
    started = time.monotonic()
    while cold:
        if len(rounds) == WARM_ROUNDS:
            raise RuntimeError(f"{len(cold)} tickets still cold after {WARM_ROUNDS} rounds")
        sent = sender.call_all("warm_tickets", cold, concurrency, timeout=600)[0]
        time.sleep(WARM_ROUND_WAIT_SECONDS)
        answers = clients.call_all("cold", timeout=60)
        for part in answers:
            if part["errors"]:
                raise RuntimeError(f"subscription errors during warm-up: {part['error_sample']}")
        cold = sorted({ticket for part in answers for ticket in part["cold_tickets"]})
        rounds.append(
            {
                "sent": sent["sent"],
                "failed": len(sent["failed"]),
                "seconds": sent["seconds"],
                "cold_after": len(cold),
            }
        )
        print(f"  warm-up round {len(rounds)}: {rounds[-1]}", flush=True)
    time.sleep(SETTLE_SECONDS)
    sample = next(part["sample"] for part in answers if part["sample"])
    return {
        "rounds": rounds,
        "seconds": round(time.monotonic() - started, 2),
        "sample_frame": sample,
    }


def _phase(
    clients: WorkerPool,
    sender: WorkerPool,
    args: argparse.Namespace,
    tag: str,
    groups: dict[str, list[int]],
    running: Deployment,
) -> dict[str, Any]:
    label = PHASE_NAMES[tag]
    workers = groups["server"][1:]
    profiles = Profiles(workers, f"spread-T{args.tickets}-{label}")
    meter = CpuMeter(groups)
    with profiles if args.profile else contextlib.nullcontext():
        if tag == STEADY:
            command: tuple[Any, ...] = ("steady", tag, args.messages, args.rate)
        else:
            command = ("burst", tag, args.burst_messages, args.burst_senders)
        sent = sender.call_all(*command, timeout=PHASE_LIMIT_SECONDS)[0]
        collected = clients.call_all(
            "collect",
            tag,
            sent["failed"],
            QUIET_SECONDS,
            PHASE_LIMIT_SECONDS,
            timeout=PHASE_LIMIT_SECONDS + 60,
        )
    summary = phase_summary(collected, sent)
    summary["misdelivered"] = sum(part["misdelivered"] for part in collected)
    summary["messages_per_s"] = (
        round(sent["sent"] / summary["duration_s"], 1) if summary["duration_s"] else None
    )
    by_role = {}
    for role in ("owner", "admin"):
        seconds = array("d")
        for part in collected:
            seconds.frombytes(part["latencies_by_role"][role])
        by_role[role] = percentiles_ms(seconds)
    summary["latency_ms_by_role"] = by_role
    summary |= _against_answers(collected, sender.call_all("answers", tag, timeout=60)[0])
    summary["cpu"] = meter.result()
    summary["server_workers_replaced"] = sorted(
        set(workers) - {int(w["pid"]) for w in running.server.workers() if w["pid"]}
    )
    if args.profile:
        summary["profile"] = profiles.hottest()
    latency = summary["latency_ms"]
    print(
        f"  {label}: p50 {latency['p50']} ms, p99 {latency['p99']} ms, max {latency['max']} ms, "
        f"{summary['deliveries_per_s']} deliveries/s, lost {summary['lost']}, "
        f"dup {summary['dup']}, misdelivered {summary['misdelivered']}, "
        f"send p50 {summary['send_ms']['p50']} p99 {summary['send_ms']['p99']} ms, "
        f"receipt after answer {summary['receipt_after_answer_ms']}, cpu {summary['cpu']}, "
        f"workers replaced {summary['server_workers_replaced']}",
        flush=True,
    )
    time.sleep(SETTLE_SECONDS)
    return summary


def _against_answers(
    collected: list[dict[str, Any]], answers: dict[int, tuple[float, float]]
) -> dict[str, Any]:
    """Each receipt against the moment its sendMessage was answered: negative when
    the subscriber had the message before the sender had its HTTP answer."""
    after = array("d")
    for part in collected:
        latencies, seqs = array("d"), array("l")
        latencies.frombytes(part["latencies"])
        seqs.frombytes(part["seqs"])
        after.extend(
            latency - answers[seq][1] for latency, seq in zip(latencies, seqs, strict=True)
        )
    before = sum(1 for value in after if value < 0)
    return {
        "receipt_after_answer_ms": percentiles_ms(after),
        "received_before_answer_percent": round(100 * before / len(after), 1) if after else None,
    }


def _run(args: argparse.Namespace) -> dict[str, Any]:
    owners = min(args.owners, args.tickets)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    load_before = machine.load_average()
    speed_ms = machine.calibration_ms()
    result: dict[str, Any] = {"tickets": args.tickets, "subscriptions": 2 * args.tickets}
    with deployment(workers=args.workers, purpose="spread") as running:
        print(f"run {running.run_id}: seeding {args.tickets} tickets, {owners} owners", flush=True)
        seeded = seed(
            running.graphql_url,
            running.admin_token,
            args.tickets,
            owners,
            args.seed_concurrency,
            running.run_id,
        )
        result["seeding"] = seeded.report
        print(f"  seeded: {seeded.report}", flush=True)
        rng = random.Random(args.random_seed)  # noqa: S311 (a benchmark's plan, not a secret)
        plans = {
            STEADY: [rng.randrange(args.tickets) for _ in range(args.messages)],
            BURST: [rng.randrange(args.tickets) for _ in range(args.burst_messages)],
        }
        result["plan"] = {
            label: {"messages": len(plans[tag]), "distinct_tickets": len(set(plans[tag]))}
            for tag, label in PHASE_NAMES.items()
        }
        clients = WorkerPool(SpreadSubscribers, args.clients, "bench-spread-client").start()
        sender = WorkerPool(SpreadSender, 1, "bench-spread-sender").start()
        try:
            sender.call_all(
                "configure",
                {
                    "kind": "graphql",
                    "url": running.graphql_url,
                    "token": running.admin_token,
                    "ticket_id": "",
                },
                timeout=30,
            )
            sender.call_all("plan", seeded.ticket_ids, plans, timeout=30)
            per_client = _watches(running, seeded.ticket_ids, seeded.owner_tokens, args.clients)
            specs = [
                (SpreadSpec(running.ws_url, watches, args.connect_concurrency, plans),)
                for watches in per_client
            ]
            connected = clients.call("connect", specs, timeout=120 + args.tickets / 5)
            failed = sum(part["failed"] for part in connected)
            if failed:
                raise RuntimeError(f"{failed} subscriptions failed to connect: {connected}")
            spread = running.server.workers()
            result["connect_seconds"] = round(max(part["seconds"] for part in connected), 2)
            result["connect_retries"] = sum(part["retries"] for part in connected)
            result["connect_retried_errors"] = [
                part["first_retried_error"] for part in connected if part["first_retried_error"]
            ]
            result["server_processes"] = spread
            print(
                f"  connected in {result['connect_seconds']} s "
                f"({result['connect_retries']} retried: {result['connect_retried_errors']}); "
                f"workers {spread}",
                flush=True,
            )
            warm = _warm_up(clients, sender, args.tickets, args.warm_concurrency)
            result["warm_up"] = {k: v for k, v in warm.items() if k != "sample_frame"}
            result["sample_frame"] = warm["sample_frame"]
            groups = {
                "server": [running.server.pid, *(int(w["pid"] or 0) for w in spread)],
                "clients": clients.pids,
                "sender": sender.pids,
                "redis": pid_listening_on(urlsplit(stores.REDIS_URL).port or 6379),
                "mariadb": pid_listening_on(urlsplit(stores.MARIADB_URL).port or 3306),
            }
            idle = CpuMeter(groups)
            time.sleep(args.idle_seconds)
            result["idle"] = {"seconds": args.idle_seconds, "cpu": idle.result()}
            print(f"  idle: {result['idle']}", flush=True)
            for tag, label in PHASE_NAMES.items():
                result[label] = _phase(clients, sender, args, tag, groups, running)
            clients.call_all("close", timeout=180)
        finally:
            clients.stop()
            sender.stop()
    result |= {
        "run_id": running.run_id,
        "started": started,
        "load_average_before": load_before,
        "calibration_ms": speed_ms,
        "load_average_after": machine.load_average(),
        "teardown": check_clean(running),
    }
    return result


def _ms(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.1f} ms" if value < 100 else f"{value:,.0f} ms"


def _rows(run: dict[str, Any], args: argparse.Namespace) -> list[dict[str, str]]:
    rows = []
    for label, phase, rate in (
        ("spread steady", run["steady"], f"{args.rate:g}/s"),
        ("spread back-to-back", run["burst"], f"max, {args.burst_senders} senders"),
    ):
        lost = phase["lost"] + phase["misdelivered"]
        row = {
            "benchmark": label,
            "tickets": f"{run['tickets']:,}",
            "subscriptions": f"{run['subscriptions']:,}",
            "rate": rate,
            "p50": _ms(phase["latency_ms"]["p50"]),
            "p99": _ms(phase["latency_ms"]["p99"]),
            "max": _ms(phase["latency_ms"]["max"]),
            "deliveries/s": f"{phase['deliveries_per_s'] or 0:,}",
            "lost": str(lost) if not phase["misdelivered"] else f"{lost} (wrong ticket)",
            "dup": str(phase["dup"]),
            "date": run["started"][:10],
            "note": "; ".join(
                filter(
                    None,
                    [
                        args.note,
                        f"others {phase['cpu']['others_percent']}% CPU",
                        f"{run['connect_retries']} connects retried"
                        if run["connect_retries"]
                        else "",
                        f"calibration {run['calibration_ms']} ms",
                        f"load {run['load_average_before'][0]:.1f}",
                    ],
                )
            ),
        }
        rows.append(row)
    return rows


def main() -> int:
    args = _arguments()
    raise_open_files()
    stamp = report.timestamp()
    document: dict[str, Any] = {
        "benchmark": "spread",
        "machine": machine.describe(),
        "parameters": {key: value for key, value in vars(args).items() if key != "note"},
        "note": args.note,
    }
    run = _run(args)
    document["run"] = run
    path = report.write_json("spread", stamp, document)
    if not args.no_docs:
        report.upsert_rows(
            _rows(run, args), table=TABLE, columns=COLUMNS, key=("benchmark", "tickets")
        )
    print(f"written to {path}; teardown {run['teardown']}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
