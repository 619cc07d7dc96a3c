"""Benchmark 5, memory per idle connection: the server's resident memory per subscribed socket.

A fresh deployment (MariaDB database, Redis prefix, `ticketing serve
--workers 2`) and client processes that open connections in steps up to each
level N (default 1,000, 5,000, 10,000). Each step is measured twice, from the
summed RSS and PSS of the server's worker processes once it has settled:

- A: the new connections are open and acknowledged (`connection_init`,
  `connection_ack`), subscribed to nothing: the socket and the protocol;
- B: each of them has sent one `subscribe` of `messageAdded(ticketId)` and
  received a probe message (proof that the subscription is live), then idles.

Per connection at level N: (B - baseline) / N, the headline; split into the
connection's share (A - previous B) and the subscription's (B - A). The
baseline is taken after a warm-up cycle (connections opened, subscribed,
probed and closed), so that what the first connection loads once (imports,
caches) is not charged to every connection. Target (issue 6): ≤ 30 KB per
idle subscribed connection at N = 10,000.

    .venv/bin/python bench/memory.py

Results: bench/results/memory-<timestamp>.json and rows in docs/performance.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from lib import api, machine, report, rss, serverlog
from lib.deployment import Deployment, check_clean, deployment
from lib.idle import IdleClients, probe_body
from lib.limits import raise_open_files
from lib.processes import ManagedProcess, free_port, socket_count
from lib.workers import WorkerPool

TARGET_BYTES = 30_000
PROBES = 5  # probe messages sent at most per step, each once the last stopped arriving
PROBE_QUIET_SECONDS = 3.0
TRACED_SERVER = Path(__file__).resolve().parent / "lib" / "traced_server.py"
SNAPSHOT_SECONDS = 300.0
TABLE = "memory"
COLUMNS = (
    "benchmark",
    "connections",
    "RSS per connection",
    "PSS per connection",
    "connection + ack",
    "subscription",
    "target",
    "date",
    "note",
)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--levels",
        default="1000,5000,10000",
        help="comma-separated connection counts, measured in one rising run (default %(default)s)",
    )
    parser.add_argument("--clients", type=int, default=4, help="client processes")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument(
        "--concurrency", type=int, default=50, help="handshakes in flight per client process"
    )
    parser.add_argument(
        "--subscribe-rate",
        type=float,
        default=100.0,
        help="subscribes per second per client process (the protocol acknowledges none)",
    )
    parser.add_argument(
        "--warm", type=int, default=200, help="connections of the warm-up cycle before the baseline"
    )
    parser.add_argument(
        "--sessions",
        type=int,
        default=0,
        help="log-in sessions spread over the connections (default: one per client process)",
    )
    parser.add_argument(
        "--attribute",
        type=int,
        default=0,
        metavar="N",
        help="then a diagnostic: N connections to a one-process server traced by tracemalloc",
    )
    parser.add_argument("--no-docs", action="store_true", help="leave docs/performance.md alone")
    parser.add_argument("--note", default="", help="a note for the docs table (e.g. 'busy')")
    return parser.parse_args()


def _split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if index < total % parts else 0) for index in range(parts)]


class Run:
    """The client processes and the server's workers of one deployment."""

    def __init__(self, running: Deployment, args: argparse.Namespace) -> None:
        self.running = running
        self.args = args
        self.ws_url = running.ws_url  # the attribution points it at the traced server
        self.subscribe_rate = args.subscribe_rate
        self.probe_quiet = PROBE_QUIET_SECONDS
        sessions = args.sessions or args.clients
        tokens = running.user_tokens(sessions)
        self.user_token = tokens[0]
        self.ticket_id = running.ticket_id
        self.payloads = [{"authorization": f"Bearer {token}"} for token in tokens]
        self.clients = WorkerPool(IdleClients, args.clients, "bench-idle-client").start()
        self.workers = rss.worker_pids(running.server.pid)
        self.probes = 0
        self.steps = 0
        self.open = 0
        self.subscribed = 0
        self.errors_seen = self.ended_seen = 0
        self.failed_sends: list[str] = []

    def connect(self, count: int) -> dict[str, Any]:
        clients = len(self.clients)
        sessions = len(self.payloads)
        calls = [
            (
                self.ws_url,
                self.payloads[index::clients] or [self.payloads[index % sessions]],
                share,
                self.args.concurrency,
            )
            for index, share in enumerate(_split(count, clients))
        ]
        answers = self.clients.call("connect", calls, timeout=120 + count / 20)
        failed = sum(part["failed"] for part in answers)
        if failed:
            raise RuntimeError(f"{failed} connections failed: {answers}")
        self.open += count
        return {
            "connected": count,
            "seconds": max(a["seconds"] for a in answers),
            "retries_so_far": sum(a["retries"] for a in answers),
            "retry_sample": next((a["retry_sample"] for a in answers if a["retry_sample"]), None),
        }

    def subscribe_and_probe(self) -> dict[str, Any]:
        """Subscribe every connection that has no subscription, then send probe messages
        until every one has received one. A subscription the server ended with an
        error is subscribed again (counted in `ended`)."""
        # Each step's subscriptions listen to a ticket of their own, so that its
        # probes reach none of the older (idle) subscriptions. Those re-check
        # their sessions on the first event after 30 s, all at once, which a
        # busy server fails with INTERNAL_SERVER_ERROR (see bench/README.md).
        self._new_ticket()
        self.steps += 1
        expected = self.open - self.subscribed
        variables = {"ticketId": self.ticket_id}
        first = self.probes + 1
        started = time.monotonic()
        limit = 60 + self.open / 50
        subscribe_seconds = 0.0
        for _ in range(PROBES):
            subscribed = self.clients.call_all(
                "subscribe",
                self.steps,
                api.MESSAGE_ADDED,
                variables,
                self.subscribe_rate,
                timeout=120 + self.open / self.subscribe_rate,
            )
            subscribe_seconds = max(subscribe_seconds, *(a["seconds"] for a in subscribed))
            self.probes += 1
            self._send_probe()
            answers = self.clients.call_all(
                "probe", self.steps, first, self.probe_quiet, limit, timeout=limit + 60
            )
            received = sum(a["received"] for a in answers)
            if received >= expected:
                break
        else:
            raise RuntimeError(f"only {received} of {expected} subscriptions are live: {answers}")
        self.subscribed = self.open
        # The client processes count since they last closed everything: this step's share.
        errors, ended = sum(a["errors"] for a in answers), sum(a["ended"] for a in answers)
        step_errors, step_ended = errors - self.errors_seen, ended - self.ended_seen
        self.errors_seen, self.ended_seen = errors, ended
        return {
            "probes": self.probes - first + 1,
            "subscribe_seconds": subscribe_seconds,
            "probe_seconds": round(time.monotonic() - started, 2),
            "errors": step_errors,
            "ended_by_server": step_ended,
            "error_sample": next((a["error_sample"] for a in answers if a["error_sample"]), None),
            "dropped": sum(a["dropped"] for a in answers),
        }

    def _new_ticket(self) -> None:
        # The user's open tickets are capped (10 by default): past that, keep the last one.
        with contextlib.suppress(api.GraphQLError):
            self.ticket_id = api.create_ticket(self.running.graphql_url, self.user_token)

    def _send_probe(self) -> None:
        """Send the next probe message; a busy server may fail a send: try again."""
        variables = {"input": {"ticketId": self.ticket_id, "body": probe_body(self.probes)}}
        for attempt in range(1, 6):
            try:
                api.call(
                    self.running.graphql_url,
                    api.SEND_MESSAGE,
                    variables,
                    self.running.admin_token,
                )
            except (api.GraphQLError, httpx.HTTPError) as error:
                self.failed_sends.append(repr(error)[:500])
                time.sleep(attempt)
            else:
                return
        raise RuntimeError(f"could not send a probe message: {self.failed_sends[-1]}")

    def close(self) -> None:
        self.clients.call_all("close", timeout=300)
        self.open = 0
        self.subscribed = 0
        self.errors_seen = self.ended_seen = 0

    def memory(self) -> dict[str, Any]:
        settled = rss.settled(self.workers)
        settled["sockets"] = {str(pid): socket_count(pid) for pid in self.workers}
        return settled

    def stop(self) -> None:
        self.clients.stop()


def _per_connection(delta_kib: float, count: int) -> float:
    return round(delta_kib * 1024 / count / 1000, 2) if count else 0.0  # KB (1,000 bytes)


def _measure(run: Run, levels: list[int]) -> dict[str, Any]:
    fresh = rss.sample(run.workers)
    print(f"workers {run.workers}: {fresh['rss_kib']} KiB RSS after start", flush=True)
    # The warm-up cycle: what the first connections load once is not per connection.
    run.connect(run.args.warm)
    warm = run.subscribe_and_probe()
    run.close()
    baseline = run.memory()
    print(f"baseline after a warm-up cycle: {baseline['rss_kib']} KiB RSS", flush=True)
    sockstat_before = rss.sockstat()
    steps = []
    previous_kib = {"rss": float(baseline["rss_kib"]), "pss": float(baseline["pss_kib"])}
    previous_count = 0
    socket_kib = {"rss": 0.0, "pss": 0.0}
    subscription_kib = {"rss": 0.0, "pss": 0.0}
    for level in levels:
        added = level - previous_count
        connected = run.connect(added)
        acknowledged = run.memory()
        probe = run.subscribe_and_probe()
        subscribed = run.memory()
        step: dict[str, Any] = {
            "connections": level,
            "added": added,
            "connect": connected,
            "probe": probe,
            "acknowledged": acknowledged,
            "subscribed": subscribed,
        }
        for kind in ("rss", "pss"):
            a = float(acknowledged[f"{kind}_kib"])
            b = float(subscribed[f"{kind}_kib"])
            socket_kib[kind] += a - previous_kib[kind]
            subscription_kib[kind] += b - a
            step[f"{kind}_per_connection_kb"] = _per_connection(
                b - float(baseline[f"{kind}_kib"]), level
            )
            step[f"{kind}_connection_ack_kb"] = _per_connection(socket_kib[kind], level)
            step[f"{kind}_subscription_kb"] = _per_connection(subscription_kib[kind], level)
            # The slope: what each added connection cost, without any fixed cost
            # (pools that grew, caches) that the average above spreads over N.
            step[f"{kind}_this_step"] = {
                "per_connection_kb": _per_connection(b - previous_kib[kind], added),
                "connection_ack_kb": _per_connection(a - previous_kib[kind], added),
                "subscription_kb": _per_connection(b - a, added),
            }
            previous_kib[kind] = b
        previous_count = level
        steps.append(step)
        print(
            f"  {level} connections: {step['rss_per_connection_kb']} KB RSS per connection "
            f"(connection + ack {step['rss_connection_ack_kb']}, subscription "
            f"{step['rss_subscription_kb']}); PSS {step['pss_per_connection_kb']} KB; "
            f"this step {step['rss_this_step']}; sockets per worker {subscribed['sockets']}",
            flush=True,
        )
    sockstat_after = rss.sockstat()
    deflate = run.clients.call_all("deflate_offer", run.ws_url, run.payloads[0], timeout=60)
    run.close()
    after_close = run.memory()
    return {
        "workers": run.workers,
        "fresh": fresh,
        "warm_cycle": {"connections": run.args.warm, **warm},
        "baseline": baseline,
        "steps": steps,
        "after_close": after_close,
        "sockstat_before": sockstat_before,
        "sockstat_at_top": sockstat_after,
        "permessage_deflate": deflate[0],
        "failed_probe_sends": run.failed_sends,
    }


def _signal_and_wait(server: ManagedProcess, marker: Path) -> None:
    """Ask the traced server for a snapshot; wait until it has written it."""
    os.kill(server.pid, signal.SIGUSR1)
    server.wait_until(marker.exists, timeout=SNAPSHOT_SECONDS)


def _attribute(run: Run, count: int) -> dict[str, Any]:
    """The diagnostic: where a connection's memory goes, by tracemalloc, in a traced
    one-process server beside the deployment (same database, Redis and settings)."""
    running = run.running
    workdir = running.server.log_path.parent / "traced"
    workdir.mkdir(parents=True, exist_ok=True)
    out = workdir / "tracemalloc.json"
    port = free_port()
    argv = [sys.executable, str(TRACED_SERVER), str(out), "serve", "--port", str(port)]
    server = ManagedProcess(
        "traced server",
        [*argv, "--workers", "1"],
        running.server.env,
        workdir,
        workdir / "server.log",
    )
    server.start()
    try:
        server.wait_until(lambda: _ready(f"http://127.0.0.1:{port}/readyz"), timeout=120)
        run.ws_url = f"ws://127.0.0.1:{port}/graphql"
        run.workers = [server.pid]  # one process: uvicorn serves in it, tracing on
        # Tracing slows the server several times over: gentler, and more patient.
        run.subscribe_rate = min(run.subscribe_rate, 25.0)
        run.probe_quiet = 10.0
        print(f"attribution: {count} connections to a traced server", flush=True)
        run.connect(min(run.args.warm, 50))
        run.subscribe_and_probe()
        run.close()
        memory = [rss.sample(run.workers)]
        _signal_and_wait(server, workdir / "tracemalloc.json.0")
        run.connect(count)
        memory.append(rss.sample(run.workers))
        _signal_and_wait(server, workdir / "tracemalloc.json.1")
        probe = run.subscribe_and_probe()
        memory.append(rss.sample(run.workers))
        _signal_and_wait(server, workdir / "tracemalloc.json.2")
        run.close()
    finally:
        server.stop()
    phases = json.loads(out.read_text())
    result: dict[str, Any] = {"connections": count, "probe": probe, "log": str(workdir)}
    for name, phase, before, after in (
        ("connection_ack", phases[0], memory[0], memory[1]),
        ("subscription", phases[1], memory[1], memory[2]),
    ):
        rss_delta = int(after["rss_kib"]) - int(before["rss_kib"])
        result[name] = {
            "traced_kb_per_connection": round(phase["total_diff"] / count / 1000, 2),
            "traced_blocks_per_connection": round(phase["count_diff"] / count, 1),
            # Under tracing (which adds its own per-block cost to RSS), for scale only.
            "rss_kb_per_connection_traced_process": _per_connection(rss_delta, count),
            "by_file": phase["by_file"],
            "by_line": phase["by_line"],
            "stacks": phase["stacks"],
        }
    return result


def _ready(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _rows(document: dict[str, Any]) -> list[dict[str, str]]:
    rows = []
    note = document["note"]
    load = document["load_average_before"][0]
    speed = document["calibration_ms"]
    for step in document["run"]["steps"]:
        rss_kb = step["rss_per_connection_kb"]
        rows.append(
            {
                "benchmark": "idle subscribed connection",
                "connections": f"{step['connections']:,}",
                "RSS per connection": f"{rss_kb:.1f} KB",
                "PSS per connection": f"{step['pss_per_connection_kb']:.1f} KB",
                "connection + ack": f"{step['rss_connection_ack_kb']:.1f} KB",
                "subscription": f"{step['rss_subscription_kb']:.1f} KB",
                "target": f"≤ 30 KB: {'met' if rss_kb * 1000 <= TARGET_BYTES else 'missed'}",
                "date": document["started"][:10],
                "note": "; ".join(filter(None, [note, f"calibration {speed} ms, load {load}"])),
            }
        )
    return rows


def main() -> int:
    args = _arguments()
    limit = raise_open_files()
    levels = sorted(int(value) for value in args.levels.split(",") if value.strip())
    # Each client process holds its share; each worker about half (the kernel spreads them).
    if max(levels) / args.clients + 256 > limit or max(levels) / args.workers * 1.3 + 256 > limit:
        raise SystemExit(f"the open-file limit ({limit}) is too low for {max(levels)} connections")
    stamp = report.timestamp()
    document = report.new_document("memory", args)
    with deployment(workers=args.workers, purpose="memory") as running:
        run = Run(running, args)
        try:
            document["run"] = _measure(run, levels)
            if args.attribute:
                document["attribution"] = _attribute(run, args.attribute)
        finally:
            run.stop()
            document["server_log"] = serverlog.summarize(running.server.log_path)
            document["server_log_path"] = str(running.server.log_path)
    document["load_average_after"] = machine.load_average()
    document["teardown"] = check_clean(running)
    path = report.write_json("memory", stamp, document)
    if not args.no_docs:
        report.upsert_rows(
            _rows(document), table=TABLE, columns=COLUMNS, key=("benchmark", "connections")
        )
    print(
        f"permessage-deflate: {document['run']['permessage_deflate']}; written to {path}; "
        f"teardown {document['teardown']}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
