"""SIGTERM (a deploy, a scale-down): the server drains instead of dropping work.

On SIGTERM the server stops accepting connections at once, finishes the
requests already in flight (here: many sign-ups at the same time, each an
argon2 hash and a transaction, so they really take a while on two cores), and
closes open WebSockets with 1001 "going away", so clients reconnect to another
instance. Every sign-up answered is committed with its log entry; none is half
written. Then the process exits by itself, without cancelling anything.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.helpers_live import (
    TRANSPORT_WS,
    close_code,
    init_frame,
    raw_socket,
    receive_frame,
    send_frame,
    start_frame,
)
from tests.support.client import PASSWORD, GraphQLClient, sign_up
from tests.support.server import Server

SIGN_UP = """
mutation SignUp($input: SignUpInput!) {
  signUp(input: $input) { accessToken user { id email displayName } }
}
"""
CONFIGURATION_UPDATED = "subscription { configurationUpdated { version } }"
# Enough argon2 hashes (about 25 ms of CPU each) to keep two cores busy for a while.
IN_FLIGHT = 40
GOING_AWAY = 1001
REFUSED_WITHIN = 3.0
EXIT_WITHIN = 15.0
REQUEST_TIMEOUT = 30.0


class DrainingServer(Server):
    """A server the test signals itself, to watch what it does while it drains."""

    def terminate(self) -> None:
        assert self._process is not None
        self._process.send_signal(signal.SIGTERM)

    def wait_exit(self, within: float) -> int:
        assert self._process is not None
        return self._process.wait(timeout=within)


async def accepts_connections(server: Server) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", server.port), 1)
    except (OSError, TimeoutError):
        return False
    writer.close()
    return True


async def timed_sign_up(http: httpx.AsyncClient, url: str, email: str) -> tuple[float, Any]:
    variables = {"input": {"email": email, "password": PASSWORD, "displayName": "Drained"}}
    response = await http.post(url, json={"query": SIGN_UP, "variables": variables})
    return time.monotonic(), (response.status_code, response.json())


def committed(database: Path, emails: list[str]) -> dict[str, tuple[bool, int]]:
    """For each email: is the user there, and how many `user.signed_up` entries name it."""
    with sqlite3.connect(database) as connection:
        found = {}
        for email in emails:
            row = connection.execute("SELECT id FROM users WHERE email = ?", (email,)).fetchone()
            entries = 0
            if row is not None:
                (entries,) = connection.execute(
                    "SELECT COUNT(*) FROM log_entries WHERE event = 'user.signed_up' "
                    "AND actor_id = ?",
                    (row[0],),
                ).fetchone()
            found[email] = (row is not None, entries)
    return found


async def test_sigterm_refuses_new_connections_finishes_in_flight_work_and_closes_sockets_1001(
    tmp_path: Path,
) -> None:
    # given a server, and a signed-in user subscribed over a WebSocket
    database = tmp_path / "drain.sqlite3"
    server = DrainingServer({"DATABASE_URL": f"sqlite://{database}"}, tmp_path)
    await asyncio.to_thread(server.start)
    try:
        async with GraphQLClient(server.graphql_url) as user:
            await sign_up(user, f"subscriber-{uuid.uuid4().hex[:8]}@example.com")
        async with raw_socket(server, TRANSPORT_WS) as socket:
            await send_frame(socket, init_frame(user.token))
            assert (await receive_frame(socket))["type"] == "connection_ack"
            await send_frame(socket, start_frame(TRANSPORT_WS, "1", CONFIGURATION_UPDATED))

            # and many slow mutations in flight
            tag = uuid.uuid4().hex[:8]
            emails = [f"drain{n}-{tag}@example.com" for n in range(IN_FLIGHT)]
            limits = httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=0)
            async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT, limits=limits) as http:
                requests = [
                    asyncio.create_task(timed_sign_up(http, server.graphql_url, email))
                    for email in emails
                ]
                done, _ = await asyncio.wait(requests, return_when=asyncio.FIRST_COMPLETED)

                # when the server gets SIGTERM while they run
                signalled_at = time.monotonic()
                server.terminate()

                # then it soon accepts no new connection
                while await accepts_connections(server):
                    assert time.monotonic() - signalled_at < REFUSED_WITHIN, "still accepting"
                    await asyncio.sleep(0.02)
                refused_at = time.monotonic()

                # and the WebSocket is closed with 1001 going away
                code = await close_code(socket, within=EXIT_WITHIN)

                # and every request in flight still gets its whole answer
                answers = await asyncio.gather(*requests)
        exit_status = await asyncio.to_thread(server.wait_exit, EXIT_WITHIN)
    finally:
        await asyncio.to_thread(server.stop)

    assert code == GOING_AWAY, f"closed with {code}\n{server.log()[-2000:]}"
    for _, (status, body) in answers:
        assert status == 200, body
        assert not body.get("errors"), body
        assert body["data"]["signUp"]["accessToken"], body
    finished = sorted(at for at, _ in answers)
    assert len(done) < IN_FLIGHT, "every request was over before SIGTERM: nothing to drain"
    assert finished[-1] > refused_at, "no request was still running when new ones were refused"
    # uvicorn re-raises the signal once it has shut down, so that a supervisor sees
    # "terminated by SIGTERM" (a clean stop for systemd and Kubernetes); never a time-out
    log = server.log()
    assert exit_status in (0, -signal.SIGTERM), log[-2000:]
    assert "graceful shutdown exceeded" not in log, log[-2000:]
    assert "Traceback" not in log, log[-3000:]
    # and each sign-up is committed whole: the user and its log entry, once each
    assert committed(database, emails) == dict.fromkeys(emails, (True, 1))
