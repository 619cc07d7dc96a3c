"""WebSocket hardening: the origin allow-list, message size and rate, sockets per user,
and a client that stops reading. Each test fails when its control is taken away.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from tests.conftest import BACKENDS, ServerFactory
from tests.e2e.helpers_live import (
    LEGACY_WS,
    TRANSPORT_WS,
    both_protocols,
    close_code,
    init_frame,
    receive_frame,
    send_frame,
    start_frame,
    subscribed,
)
from tests.e2e.helpers_stalled import (
    TCP_ESTABLISHED,
    StalledClient,
    resident_mib,
    server_pid,
    server_side_state,
)
from tests.e2e.helpers_tickets import SEND_MESSAGE, create_ticket, fresh_email
from tests.support.client import GraphQLClient, sign_up
from tests.support.server import Server

APP_ORIGIN = "https://app.example.test"  # in CORS_ORIGINS
WS_ORIGIN = "https://ws.example.test"
FOREIGN_ORIGIN = "https://evil.example.test"
MAX_CONNECTIONS = 3
RATE, BURST = 20, 40
SEND_TIMEOUT_SECONDS = 3
DEFAULT_MAX_MESSAGE_BYTES = 128 * 1024
MESSAGE_ADDED = "subscription($id: ID!) { messageAdded(ticketId: $id) { id body } }"
CREATE = "mutation($input: CreateTicketInput!) { createTicket(input: $input) { id description } }"


@pytest.fixture(scope="module", params=BACKENDS)
def hardened(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A server with small caps (and the default message size), on each backend."""
    factory = ServerFactory(request, tmp_path_factory)
    yield factory(
        request.param,
        CORS_ORIGINS=APP_ORIGIN,
        WS_MAX_CONNECTIONS_PER_USER=str(MAX_CONNECTIONS),
        WS_MESSAGES_PER_SECOND=str(RATE),
        WS_MESSAGE_BURST=str(BURST),
    )
    factory.stop_all()


@asynccontextmanager
async def opened(
    server: Server, protocol: str = TRANSPORT_WS, origin: str | None = None
) -> AsyncIterator[ClientConnection]:
    async with websockets.connect(
        server.ws_url,
        subprotocols=[protocol],
        origin=origin,
        open_timeout=5,
        close_timeout=2,
        max_size=None,
    ) as socket:
        yield socket


async def healthy(server: Server) -> bool:
    async with httpx.AsyncClient(timeout=5) as http:
        return (await http.get(f"{server.base_url}/healthz")).status_code == 200


async def acked(socket: ClientConnection, token: str | None) -> bool:
    await send_frame(socket, init_frame(token))
    return (await receive_frame(socket))["type"] == "connection_ack"


async def new_user(server: Server) -> str:
    async with GraphQLClient(server.graphql_url) as client:
        await sign_up(client, fresh_email())
        assert client.token is not None
        return client.token


# 1. Origin allow-list


@both_protocols
async def test_a_handshake_from_a_foreign_origin_is_refused_with_403(
    hardened: Server, protocol: str
) -> None:
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with opened(hardened, protocol, origin=FOREIGN_ORIGIN):
            pass

    assert refused.value.response.status_code == 403


@pytest.mark.parametrize(
    "origin",
    [None, "same", APP_ORIGIN, APP_ORIGIN.upper() + ":443"],
    ids=["no-origin", "same-origin", "cors-origin", "cors-origin-spelled-otherwise"],
)
async def test_handshakes_without_origin_same_origin_or_from_an_allowed_origin_open(
    hardened: Server, origin: str | None
) -> None:
    sent = hardened.base_url if origin == "same" else origin

    async with opened(hardened, origin=sent) as socket:
        assert await acked(socket, None)


async def test_ws_allowed_origins_replaces_the_cors_origins(make_server: ServerFactory) -> None:
    server = make_server("embedded", CORS_ORIGINS=APP_ORIGIN, WS_ALLOWED_ORIGINS=WS_ORIGIN)

    async with opened(server, origin=WS_ORIGIN) as socket:
        assert await acked(socket, None)
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with opened(server, origin=APP_ORIGIN):
            pass

    assert refused.value.response.status_code == 403


# 2. Message size


async def test_a_message_above_the_size_limit_closes_with_1009_and_the_server_stays_healthy(
    hardened: Server,
) -> None:
    async with opened(hardened) as socket:
        assert await acked(socket, None)
        await socket.send("x" * (DEFAULT_MAX_MESSAGE_BYTES + 1))
        code = await close_code(socket)

    assert code == 1009
    assert await healthy(hardened)
    async with opened(hardened) as socket:
        assert await acked(socket, None)


async def test_a_message_in_fragments_is_limited_as_a_whole(hardened: Server) -> None:
    fragment = "x" * (DEFAULT_MAX_MESSAGE_BYTES // 4)
    async with opened(hardened) as socket:
        assert await acked(socket, None)
        await socket.send(iter([fragment] * 5))  # each fragment small, the message not
        code = await close_code(socket)

    assert code == 1009


async def test_the_largest_legitimate_message_fits_the_default_limit(hardened: Server) -> None:
    # A 10,000-character description (the maximum) of astral characters, which
    # json.dumps escapes as 12 bytes each: about 120 KB in one message.
    description = "\U0001f525" * 10_000
    variables = {"input": {"title": "Printer on fire", "description": description}}
    frame = start_frame(TRANSPORT_WS, "1", CREATE, variables)
    token = await new_user(hardened)

    async with opened(hardened) as socket:
        assert await acked(socket, token)
        await send_frame(socket, frame)
        answer = await receive_frame(socket, within=15)

    assert 100_000 < len(json.dumps(frame)) <= DEFAULT_MAX_MESSAGE_BYTES
    assert answer["type"] == "next", answer
    assert answer["payload"]["data"]["createTicket"]["description"] == description


# 3. Sockets per user


async def _refusal(server: Server, protocol: str, token: str) -> tuple[list[str], int | None]:
    """The frame types a socket over the cap receives, and its close code."""
    types: list[str] = []
    async with opened(server, protocol) as socket:
        await send_frame(socket, init_frame(token))
        try:
            async with asyncio.timeout(5):
                while True:
                    types.append(json.loads(await socket.recv())["type"])
        except websockets.ConnectionClosed as closed:
            return types, closed.rcvd.code if closed.rcvd is not None else None


async def _ack_when_a_slot_is_free(server: Server, protocol: str, token: str) -> bool:
    """Whether a new socket is acknowledged within 5 s (a slot is given back as its socket ends)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        async with opened(server, protocol) as socket:
            await send_frame(socket, init_frame(token))
            with contextlib.suppress(websockets.ConnectionClosed):
                if (await receive_frame(socket))["type"] == "connection_ack":
                    return True
        await asyncio.sleep(0.1)
    return False


@both_protocols
async def test_sockets_over_the_cap_per_user_are_closed_with_4429_and_closing_one_frees_a_slot(
    hardened: Server, protocol: str
) -> None:
    token = await new_user(hardened)
    async with contextlib.AsyncExitStack() as stack:
        sockets = [await stack.enter_async_context(opened(hardened, protocol)) for _ in range(3)]
        assert all([await acked(socket, token) for socket in sockets])
        # when: one more socket of the same user
        frames, code = await _refusal(hardened, protocol, token)
        # then: refused before any acknowledgement; other users and anonymous sockets open
        assert code == 4429
        assert frames == ([] if protocol == TRANSPORT_WS else ["connection_error"])
        async with opened(hardened, protocol) as other:
            assert await acked(other, await new_user(hardened))
        async with opened(hardened, protocol) as anonymous:
            assert await acked(anonymous, None)
        # when: one of the three closes; then its slot is free again
        await sockets[0].close()
        assert await _ack_when_a_slot_is_free(hardened, protocol, token)


@both_protocols
async def test_a_second_connection_init_cannot_dodge_the_cap_per_user(
    hardened: Server, protocol: str
) -> None:
    token = await new_user(hardened)
    async with contextlib.AsyncExitStack() as stack:
        sockets = [await stack.enter_async_context(opened(hardened, protocol)) for _ in range(3)]
        assert all([await acked(socket, token) for socket in sockets])
        # when: a socket signed in as another user (on a slot of theirs) sends this user's token
        async with opened(hardened, protocol) as sneaky:
            assert await acked(sneaky, await new_user(hardened))
            await send_frame(sneaky, init_frame(token))
            frames, code = await _frames_until_closed(sneaky)
        # then: it is closed unacknowledged
        assert code == 4429
        assert "connection_ack" not in frames
    # and the count is right: with those closed, the user holds three sockets again
    assert await _all_acked_within(hardened, protocol, token, sockets=3, seconds=5)


async def _all_acked_within(
    server: Server, protocol: str, token: str, sockets: int, seconds: float
) -> bool:
    """Whether `sockets` sockets of one user are open at once within `seconds` (slots are
    given back a moment after their sockets end)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        async with contextlib.AsyncExitStack() as stack:
            held = [
                await stack.enter_async_context(opened(server, protocol)) for _ in range(sockets)
            ]
            with contextlib.suppress(websockets.ConnectionClosed):
                if all([await acked(socket, token) for socket in held]):
                    return True
        await asyncio.sleep(0.1)
    return False


async def _frames_until_closed(socket: ClientConnection) -> tuple[list[str], int | None]:
    """The types of the frames received until the server closes the socket, and its code."""
    types: list[str] = []
    try:
        async with asyncio.timeout(5):
            while True:
                types.append(json.loads(await socket.recv())["type"])
    except websockets.ConnectionClosed as closed:
        return types, closed.rcvd.code if closed.rcvd is not None else None
    except TimeoutError:
        return types, None


async def test_the_cap_per_user_spans_instances(make_server: ServerFactory) -> None:
    first, second = make_server.cluster(2, WS_MAX_CONNECTIONS_PER_USER=str(MAX_CONNECTIONS))
    token = await new_user(first)
    async with contextlib.AsyncExitStack() as stack:
        on_first = [await stack.enter_async_context(opened(first)) for _ in range(2)]
        on_second = await stack.enter_async_context(opened(second))
        for socket in [*on_first, on_second]:
            assert await acked(socket, token)
        # when: a fourth socket, on either instance
        _, code = await _refusal(second, TRANSPORT_WS, token)
        assert code == 4429
        # when: a socket on the first instance closes; then the second has a slot
        await on_first[0].close()
        assert await _ack_when_a_slot_is_free(second, TRANSPORT_WS, token)


# 4. Message rate


def _flood_frame(kind: str, number: int) -> dict[str, Any]:
    if kind == "ping":
        return {"type": "ping"}
    return start_frame(
        TRANSPORT_WS if kind == "subscribe" else LEGACY_WS, str(number), "{ ok: __typename }"
    )


@pytest.mark.parametrize(
    ("protocol", "kind"),
    [(TRANSPORT_WS, "ping"), (TRANSPORT_WS, "subscribe"), (LEGACY_WS, "start")],
    ids=["transport-ping", "transport-subscribe", "legacy-start"],
)
async def test_a_client_flooding_messages_is_closed_with_4429_and_the_server_stays_responsive(
    hardened: Server, protocol: str, kind: str
) -> None:
    flood = 1000
    async with opened(hardened, protocol) as socket:
        assert await acked(socket, None)
        sending = asyncio.create_task(
            _send_all(socket, [_flood_frame(kind, n) for n in range(flood)])
        )
        answers = 0
        try:
            async with asyncio.timeout(15):
                while True:
                    await socket.recv()
                    answers += 1
        except websockets.ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd is not None else None
        sending.cancel()
        with contextlib.suppress(asyncio.CancelledError, websockets.ConnectionClosed):
            await sending

    assert code == 4429
    assert answers < flood  # it was cut short, well before the end of the flood
    assert await healthy(hardened)
    async with opened(hardened, protocol) as socket:
        assert await acked(socket, None)


async def _send_all(socket: ClientConnection, frames: list[dict[str, Any]]) -> None:
    for frame in frames:
        await send_frame(socket, frame)


async def test_a_client_within_the_rate_is_served(hardened: Server) -> None:
    async with opened(hardened) as socket:
        assert await acked(socket, None)
        # a burst (below BURST, with the init), then a steady RATE / 2 for two seconds
        for _ in range(BURST - 5):
            await send_frame(socket, {"type": "ping"})
        for _ in range(RATE):
            await send_frame(socket, {"type": "ping"})
            await asyncio.sleep(2 / RATE)
        pongs = [await receive_frame(socket) for _ in range(BURST - 5 + RATE)]

    assert {pong["type"] for pong in pongs} == {"pong"}


# 5. A client that stops reading


MESSAGES = 300
BODY = "x" * 5000
SUBSCRIPTIONS_OF_THE_STALLED_CLIENT = 10  # each event goes to it 10 times: 50 KB
MAX_GROWTH_MIB = 50


async def _diagnostics(server: Server) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=5) as http:
        body: dict[str, Any] = (await http.get(f"{server.base_url}/diagnostics")).json()
    return body


async def _until(check: Any, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.1)
    return False


async def _listeners_become(server: Server, count: int) -> bool:
    async def reached() -> bool:
        return bool((await _diagnostics(server))["broker"]["listeners"] == count)

    return await _until(reached, 10)


async def _owner_and_ticket(server: Server) -> tuple[str, str]:
    async with GraphQLClient(server.graphql_url) as owner:
        await sign_up(owner, fresh_email())
        assert owner.token is not None
        return owner.token, (await create_ticket(owner))["id"]


async def _publish(server: Server, token: str, ticket_id: str, count: int) -> None:
    variables = {"input": {"ticketId": ticket_id, "body": BODY}}
    async with GraphQLClient(server.graphql_url, token) as sender:
        for _ in range(count):
            (await sender.execute(SEND_MESSAGE, variables)).ok()


async def _sample_rss(pid: int, samples: list[float]) -> None:
    while True:
        samples.append(resident_mib(pid))
        await asyncio.sleep(0.1)


async def _seconds_until_dropped(server: Server, client_port: int) -> float:
    started = time.monotonic()
    while True:
        if server_side_state(server, client_port) != TCP_ESTABLISHED:
            return time.monotonic() - started
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_client_that_stops_reading_is_dropped_and_memory_stays_bounded(
    make_server: ServerFactory, backend: str
) -> None:
    server = make_server(
        backend, WS_SEND_TIMEOUT_SECONDS=str(SEND_TIMEOUT_SECONDS), EXPOSE_DIAGNOSTICS="true"
    )
    pid = server_pid(server)
    token, ticket_id = await _owner_and_ticket(server)
    watch = {"id": ticket_id}
    stalled = StalledClient(server, TRANSPORT_WS)
    samples: list[float] = []
    try:
        async with subscribed(server, token, MESSAGE_ADDED, watch) as normal:
            # given: beside a normal subscriber, a client that subscribes ten times, then
            # never reads again
            await stalled.open(token)
            for number in range(SUBSCRIPTIONS_OF_THE_STALLED_CLIENT):
                await stalled.send(start_frame(TRANSPORT_WS, str(number), MESSAGE_ADDED, watch))
            assert await _listeners_become(server, SUBSCRIPTIONS_OF_THE_STALLED_CLIENT + 1)
            before = resident_mib(pid)
            sampler = asyncio.create_task(_sample_rss(pid, samples))
            drop = asyncio.create_task(_seconds_until_dropped(server, stalled.port))

            # when: hundreds of 5 KB messages (ten copies of each for the stalled client)
            started = time.monotonic()
            await _publish(server, token, ticket_id, MESSAGES)
            published = time.monotonic() - started

            # then: the server drops that socket: in the send timeout once its buffers are full
            try:
                dropped_after = await asyncio.wait_for(drop, SEND_TIMEOUT_SECONDS + 10)
            except TimeoutError:
                pytest.fail("the server still holds the stalled socket:\n" + server.log()[-2000:])
            finally:
                sampler.cancel()
            after = resident_mib(pid)
            # and releases its subscriptions, while the normal subscriber got everything
            assert await _listeners_become(server, 1)
            results = await normal.wait_for(MESSAGES, within=30)
        leftover, reset = await stalled.drain_until_closed(within=10)
    finally:
        stalled.close()

    print(  # the measured numbers, for the record (pytest -s)
        f"\n[{backend}] RSS before {before:.1f} MiB, peak {max(samples):.1f} MiB, after "
        f"{after:.1f} MiB; {MESSAGES} messages published in {published:.1f}s; stalled socket "
        f"dropped {dropped_after:.1f}s after publishing began; {leftover} bytes were left "
        "in the stalled client's buffers"
    )
    assert [r["messageAdded"]["body"] for r in results] == [BODY] * MESSAGES
    assert max(samples) - before < MAX_GROWTH_MIB
    assert reset  # reading now, the stalled client finds the connection reset
    assert await healthy(server)
