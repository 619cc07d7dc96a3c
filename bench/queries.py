"""Benchmark 4, queries: an agent's ticket list at a fixed concurrency for a fixed time.

A fresh deployment (MariaDB database, Redis prefix, `ticketing serve
--workers 2`, production settings), seeded through the API: `--users` users
with `--tickets-per-user` tickets each (200 by default), `--messages-per-
ticket` messages on each (owner and admin in turn), every other ticket
assigned to the admin. Then

- the SQL statements per request, counted by a second server on the same
  database started with `EXPOSE_SQL_STATEMENT_COUNT=true` (a diagnostic, not a
  production setting, so never on during the timed run), for several page
  sizes: the count must not grow with the page;
- the timed run: client processes hold `--concurrency` keep-alive
  connections, each asking for `tickets(first: --page)` with owner, assignee
  and the first `--messages` messages of each with their authors, as the
  admin, one request after the other (closed loop); after a warm-up, the
  timed window gives requests/s, latency p50/p99/max and errors.

    .venv/bin/python bench/queries.py                    # 32 connections, 30 s
    .venv/bin/python bench/queries.py --seconds 5 --no-docs   # a quick check

Results: bench/results/queries-<timestamp>.json and a row in docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from lib import api, machine, report, seed
from lib.deployment import ADMIN_EMAIL, PASSWORD, Deployment, check_clean, deployment
from lib.limits import raise_open_files
from lib.load import ConnectionPlan
from lib.load_run import add_arguments, counting_server, ms, note, print_result, run_load

TABLE = "queries"
COLUMNS = (
    "benchmark",
    "page",
    "concurrency",
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
COUNTED_PAGES = (5, 20, 100)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser, concurrency=32)
    parser.add_argument("--page", type=int, default=20, help="tickets(first: N)")
    parser.add_argument("--messages", type=int, default=3, help="messages(first: N) per ticket")
    parser.add_argument("--users", type=int, default=20, help="ticket owners")
    parser.add_argument("--tickets-per-user", type=int, default=10, help="within the quota (10)")
    parser.add_argument("--messages-per-ticket", type=int, default=4)
    return parser.parse_args()


def _seed(running: Deployment, args: argparse.Namespace) -> dict[str, Any]:
    url = running.graphql_url
    quota = api.max_open_tickets_per_user(url)
    if args.tickets_per_user > quota:
        raise SystemExit(f"--tickets-per-user {args.tickets_per_user} > quota {quota}")
    owners = seed.sign_up_users(url, "owner", args.users)
    tickets = seed.open_tickets(url, owners, args.tickets_per_user)
    admin_id = api.my_id(url, running.admin_token)
    messages = seed.converse(url, tickets, running.admin_token, admin_id, args.messages_per_ticket)
    return {
        "users": len(owners),
        "tickets": len(tickets) + 1,  # and the deployment's own user's ticket
        "messages": messages,
        "assigned": (len(tickets) + 1) // 2,
        "how": "through the API (signUp, createTicket, sendMessage, assignTicket)",
    }


def _check_page(data: dict[str, Any], first: int, messages: int) -> None:
    """The answer is what a ticket list shows: full pages, owners, first messages."""
    edges = data["tickets"]["edges"]
    assert len(edges) == first, f"{len(edges)} tickets, not {first}"
    for edge in edges:
        node = edge["node"]
        assert node["owner"]["id"], node
        shown = node["messages"]["edges"]
        assert 0 < len(shown) <= messages, node
        assert all(message["node"]["author"]["id"] for message in shown), node


def _count_statements(running: Deployment, args: argparse.Namespace) -> dict[str, int]:
    """SQL statements per request by page size, from the diagnostic server."""
    counts = {}
    with counting_server(running) as url:
        # Once before counting: a fresh worker's first request does one-off work.
        api.call(url, api.TICKET_PAGE, {"first": 1, "messages": 1}, running.admin_token)
        for first in sorted({*COUNTED_PAGES, args.page}):
            variables = {"first": first, "messages": args.messages}
            data, extensions = api.call_with_extensions(
                url, api.TICKET_PAGE, variables, running.admin_token
            )
            _check_page(data, first, args.messages)
            counts[str(first)] = int(extensions["sqlStatements"])
    return counts


def _run(args: argparse.Namespace) -> dict[str, Any]:
    started = datetime.now(UTC).isoformat(timespec="seconds")
    with deployment(workers=args.workers, purpose="queries") as running:
        seeded = _seed(running, args)
        print(f"seeded: {seeded}", flush=True)
        statements = _count_statements(running, args)
        print(f"SQL statements per request by page size: {statements}", flush=True)
        variables = {"first": args.page, "messages": args.messages}
        data = api.call(running.graphql_url, api.TICKET_PAGE, variables, running.admin_token)
        _check_page(data, args.page, args.messages)
        body = json.dumps({"query": api.TICKET_PAGE, "variables": variables})
        # One admin session per client process, as separate browsers would have.
        tokens = [
            api.log_in(running.graphql_url, ADMIN_EMAIL, PASSWORD) for _ in range(args.clients)
        ]
        plans = [
            ConnectionPlan(tokens[number % args.clients], body)
            for number in range(args.concurrency)
        ]
        result = run_load(running, plans, args, f"queries-first{args.page}")
        result["response_bytes"] = len(json.dumps(data, separators=(",", ":")))
        print_result(f"tickets(first: {args.page})", result)
    return {
        "started": started,
        "seeded": seeded,
        "sql_statements_by_page": statements,
        "result": result,
        "teardown": check_clean(running),
    }


def _row(run: dict[str, Any], args: argparse.Namespace) -> dict[str, str]:
    result = run["result"]
    latency = result["latency_ms"]
    counts = run["sql_statements_by_page"]
    constant = len(set(counts.values())) == 1
    return {
        "benchmark": "tickets page",
        "page": f"{args.page} tickets x {args.messages} messages",
        "concurrency": str(args.concurrency),
        "requests/s": f"{result['requests_per_s']:,.0f}",
        "p50": ms(latency["p50"]),
        "p99": ms(latency["p99"]),
        "max": ms(latency["max"]),
        "errors": str(result["errors"]),
        "SQL statements": f"{counts[str(args.page)]} "
        + ("(same for first: " if constant else "(NOT constant: ")
        + ", ".join(f"{first}→{n}" if not constant else first for first, n in counts.items())
        + ")",
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
        "benchmark": "queries",
        "machine": machine.describe(),
        "parameters": {key: value for key, value in vars(args).items() if key != "note"},
        "note": args.note,
        "run": run,
    }
    path = report.write_json("queries", stamp, document)
    if not args.no_docs:
        report.upsert_rows(
            [_row(run, args)],
            table=TABLE,
            columns=COLUMNS,
            key=("benchmark", "page", "concurrency"),
        )
    print(f"written to {path}; teardown {run['teardown']}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
