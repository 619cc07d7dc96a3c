"""HTTP limits through a real server: CORS for the configured origins only, body size, time."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import ServerFactory
from tests.support.client import PASSWORD
from tests.support.server import Server

ALLOWED = "https://app.example.test"
FOREIGN = "https://evil.example.test"
QUERY = {"query": "{ me { id } }"}


@pytest.fixture(scope="module")
def cors_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("cors")
    env = {"DATABASE_URL": f"sqlite://{workdir / 'cors.sqlite3'}", "CORS_ORIGINS": ALLOWED}
    server = Server(env, workdir).start()
    yield server
    server.stop()


def cors_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


async def preflight(server: Server, origin: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        return await http.options(
            "/graphql",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type,authorization",
            },
        )


async def post_from(server: Server, origin: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        return await http.post("/graphql", json=QUERY, headers={"Origin": origin})


# --- CORS --------------------------------------------------------------------------------------


async def test_an_allowed_origin_may_call_with_credentials(cors_server: Server) -> None:
    before = await preflight(cors_server, ALLOWED)
    actual = await post_from(cors_server, ALLOWED)

    assert before.status_code == 200
    assert before.headers["access-control-allow-origin"] == ALLOWED
    assert before.headers["access-control-allow-credentials"] == "true"
    assert "POST" in before.headers["access-control-allow-methods"]
    assert actual.status_code == 200
    assert actual.headers["access-control-allow-origin"] == ALLOWED
    assert actual.headers["access-control-allow-credentials"] == "true"


async def test_another_origin_gets_no_cors_header_at_all(cors_server: Server) -> None:
    before = await preflight(cors_server, FOREIGN)
    actual = await post_from(cors_server, FOREIGN)

    assert before.status_code == 403
    assert cors_headers(before) == {}
    assert cors_headers(actual) == {}
    assert "origin" in actual.headers["vary"].lower()


# --- body size ---------------------------------------------------------------------------------


async def send_raw(server: Server, head: bytes, chunks: list[bytes]) -> bytes:
    """Send a request's head and some of its body, and read the status line without
    sending the rest: a server that waited for the whole body would not answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(head)
        for chunk in chunks:
            writer.write(chunk)
        await writer.drain()
        return await asyncio.wait_for(reader.readline(), timeout=5)
    finally:
        writer.close()


async def test_a_body_of_one_mebibyte_runs_and_a_larger_one_is_413_unread(
    server: Server,
) -> None:
    base = len(json.dumps({**QUERY, "extensions": {"pad": ""}}))
    body = json.dumps({**QUERY, "extensions": {"pad": "x" * (1024 * 1024 - base)}}).encode()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        under = await http.post(
            "/graphql", content=body, headers={"Content-Type": "application/json"}
        )

    # one byte more, declared: refused before a byte of the body is sent
    over = await send_raw(
        server,
        b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {1024 * 1024 + 1}\r\n\r\n".encode(),
        [],
    )

    assert len(body) == 1024 * 1024
    assert under.status_code == 200
    assert under.json() == {"data": {"me": None}}
    assert over.startswith(b"HTTP/1.1 413")


async def test_a_streamed_body_is_refused_while_it_streams(make_server: ServerFactory) -> None:
    # Chunked, with no Content-Length: 3 KB of a body that goes on past the limit
    # (2,000 bytes here). The server must answer 413 without waiting for the end.
    server = make_server("embedded", MAX_REQUEST_BODY_BYTES="2000")

    status = await send_raw(
        server,
        b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n",
        [b"3e8\r\n" + b" " * 1000 + b"\r\n"] * 3,  # 1,000-byte chunks
    )

    assert status.startswith(b"HTTP/1.1 413")


# --- time --------------------------------------------------------------------------------------


def users_like(server: Server, prefix: str) -> int:
    path = server.env["DATABASE_URL"].removeprefix("sqlite://")
    with sqlite3.connect(path) as db:
        [(count,)] = db.execute("SELECT COUNT(*) FROM users WHERE email LIKE ?", (f"{prefix}%",))
    return int(count)


async def test_a_request_over_the_time_limit_is_503_and_its_work_stops(
    make_server: ServerFactory,
) -> None:
    # 40 sign-ups in one mutation run one after the other, each hashing a password
    # (argon2id, tens of milliseconds): far more than the 0.25 s allowed.
    server = make_server("embedded", REQUEST_TIMEOUT_SECONDS="0.25", MAX_QUERY_ALIASES="40")
    fields = " ".join(
        f'u{n}: signUp(input: {{email: "slow{n}@example.com", password: "{PASSWORD}", '
        f'displayName: "S"}}) {{ accessToken }}'
        for n in range(40)
    )
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        started = time.monotonic()
        response = await http.post("/graphql", json={"query": f"mutation {{ {fields} }}"})
        elapsed = time.monotonic() - started

    assert response.status_code == 503
    assert elapsed < 5
    # the sign-ups stopped where the request was cancelled, and stay stopped
    made = users_like(server, "slow")
    await asyncio.sleep(1.5)
    assert users_like(server, "slow") == made < 40
    assert "took more than 0.25s and was cancelled" in server.log()
