"""Benchmark 3, mutations: `sendMessage` at a fixed concurrency for a fixed time.

A fresh deployment (MariaDB database, Redis prefix, `ticketing serve
--workers 2`, production settings); `--tickets` tickets opened by several
users (each user within the open-ticket quota); then client processes hold
`--concurrency` keep-alive connections, connection k sending message after
message to ticket k mod `--tickets` as the ticket's owner, each waiting for
its answer before the next (closed loop). After a warm-up, the timed window
gives requests/s, latency p50/p99/max and errors; every successful send must
be stored (checked in MariaDB afterwards).

    .venv/bin/python bench/mutations.py                  # 64 connections, 30 s
    .venv/bin/python bench/mutations.py --seconds 5 --no-docs   # a quick check

Results: bench/results/mutations-<timestamp>.json and a row in docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import math
from datetime import UTC, datetime
from typing import Any

from lib import api, machine, report, seed, stores
from lib.deployment import Deployment, check_clean, deployment
from lib.limits import raise_open_files
from lib.load import SEQ_SLOT, ConnectionPlan
from lib.load_run import add_arguments, counting_server, ms, note, print_result, run_load

TABLE = "mutations"
COLUMNS = (
    "benchmark",
    "concurrency",
    "tickets",
    "requests/s",
    "p50",
    "p99",
    "max",
    "errors",
    "SQL statements",
    "server CPU/request",
    "client CPU",
    "date",
    "note",
)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser, concurrency=64)
    parser.add_argument(
        "--tickets", type=int, default=64, help="tickets written to (1 shows row-lock contention)"
    )
    parser.add_argument(
        "--tickets-per-user", type=int, default=8, help="within maxOpenTicketsPerUser (10)"
    )
    return parser.parse_args()


def _plans(tickets: list[seed.SeededTicket], concurrency: int) -> list[ConnectionPlan]:
    plans = []
    for number in range(concurrency):
        ticket = tickets[number % len(tickets)]
        body = json.dumps(
            {
                "query": api.SEND_MESSAGE,
                "variables": {
                    "input": {
                        "ticketId": ticket.ticket_id,
                        "body": f"Load message {SEQ_SLOT}: the printer on floor 3 is jammed again.",
                    }
                },
            }
        )
        plans.append(ConnectionPlan(ticket.owner.token, body))
    return plans


def _count_statements(running: Deployment, ticket: seed.SeededTicket) -> int:
    """SQL statements of one sendMessage, from the diagnostic server (not the timed one)."""
    with counting_server(running) as url:
        counts = []
        for attempt in range(2):  # the first request of a fresh worker does one-off work
            variables = {"input": {"ticketId": ticket.ticket_id, "body": f"Counted {attempt}"}}
            _, extensions = api.call_with_extensions(
                url, api.SEND_MESSAGE, variables, ticket.owner.token
            )
            counts.append(int(extensions["sqlStatements"]))
    return counts[-1]


def _stored_messages(database: str) -> int:
    sql = f"SELECT COUNT(*) FROM `{database}`.messages"  # noqa: S608 (our own database)
    return int(stores.sql(sql)[0][0])


def _run(args: argparse.Namespace) -> dict[str, Any]:
    started = datetime.now(UTC).isoformat(timespec="seconds")
    with deployment(workers=args.workers, purpose="mutations") as running:
        url = running.graphql_url
        quota = api.max_open_tickets_per_user(url)
        if args.tickets_per_user > quota:
            raise SystemExit(f"--tickets-per-user {args.tickets_per_user} > quota {quota}")
        users = math.ceil(args.tickets / args.tickets_per_user)
        owners = seed.sign_up_users(url, "writer", users)
        tickets = seed.open_tickets(url, owners, args.tickets_per_user)[: args.tickets]
        statements = _count_statements(running, tickets[0])
        print(f"SQL statements per sendMessage: {statements}", flush=True)
        before = _stored_messages(running.database)
        print(f"{users} users, {len(tickets)} tickets; loading", flush=True)
        result = run_load(running, _plans(tickets, args.concurrency), args, "mutations")
        stored = _stored_messages(running.database) - before
        sent = result["warmup"]["requests"] + result["requests"]
        # Requests cut off by the end of a window are not counted, but may have
        # committed: at most one per connection per window.
        result["stored_check"] = {
            "messages_stored": stored,
            "successful_sends_counted": sent,
            "ok": sent <= stored <= sent + 2 * args.concurrency,
        }
        print_result("sendMessage", result)
        print(f"  stored: {result['stored_check']}", flush=True)
    return {
        "started": started,
        "sql_statements": statements,
        "users": users,
        "tickets": len(tickets),
        "result": result,
        "teardown": check_clean(running),
    }


def _row(run: dict[str, Any], args: argparse.Namespace) -> dict[str, str]:
    result = run["result"]
    latency = result["latency_ms"]
    return {
        "benchmark": "sendMessage",
        "concurrency": str(args.concurrency),
        "tickets": f"{run['tickets']} ({run['users']} users)",
        "requests/s": f"{result['requests_per_s']:,.0f}",
        "p50": ms(latency["p50"]),
        "p99": ms(latency["p99"]),
        "max": ms(latency["max"]),
        "errors": str(result["errors"]),
        "SQL statements": str(run["sql_statements"]),
        "server CPU/request": f"{result['cpu_ms_per_request']['server']:.1f} ms",
        "client CPU": f"{result['cpu_share_percent']['clients']}%",
        "date": run["started"][:10],
        "note": note(result, args.note),
    }


def main() -> int:
    args = _arguments()
    raise_open_files()
    stamp = report.timestamp()
    run = _run(args)
    document = {
        "benchmark": "mutations",
        "machine": machine.describe(),
        "parameters": {key: value for key, value in vars(args).items() if key != "note"},
        "note": args.note,
        "run": run,
    }
    path = report.write_json("mutations", stamp, document)
    if not args.no_docs:
        report.upsert_rows(
            [_row(run, args)], table=TABLE, columns=COLUMNS, key=("benchmark", "concurrency")
        )
    print(f"written to {path}; teardown {run['teardown']}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
