"""The protocol's direct write (`send_text_now`): the frames it writes, and when it declines."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from websockets.frames import Frame, Opcode

from tests.support.ws_protocol import connected
from ticketing.ws_protocol import DIRECT_BUFFER_LIMIT, SEND_TEXT_NOW, text_frame


@pytest.mark.parametrize("length", [0, 1, 125, 126, 65535, 65536, 70000])
def test_a_text_frame_is_what_websockets_writes_for_a_server(length: int) -> None:
    payload = b"x" * length

    expected = Frame(Opcode.TEXT, payload).serialize(mask=False, extensions=[])

    assert text_frame(payload) == expected


class AcceptingApp:
    """Accepts, keeps the scope, and stays open until `done` is set."""

    def __init__(self) -> None:
        self.scope: dict[str, Any] = {}
        self.done = asyncio.Event()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.scope = scope
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        await self.done.wait()

    def send_text_now(self, payload: bytes) -> bool:
        send: Any = self.scope["extensions"][SEND_TEXT_NOW]
        return bool(send(payload))


async def test_an_open_socket_gets_the_frame_at_once() -> None:
    app = AcceptingApp()
    _, transport = await connected(app)
    before = len(transport.written)

    assert app.send_text_now(b'{"id":"1"}')

    assert bytes(transport.written[before:]) == text_frame(b'{"id":"1"}')
    app.done.set()


async def test_it_writes_past_the_high_water_mark_up_to_the_limit_then_declines() -> None:
    app = AcceptingApp()
    protocol, transport = await connected(app)
    protocol.pause_writing()  # above uvicorn's high-water mark: ASGI sends would wait
    chunk = b"x" * 4096

    taken = 0
    while app.send_text_now(chunk):
        taken += 1

    # then: it wrote until the unsent bytes passed the limit, and no further
    assert transport.get_write_buffer_size() > DIRECT_BUFFER_LIMIT
    assert transport.get_write_buffer_size() <= DIRECT_BUFFER_LIMIT + len(text_frame(chunk))
    assert taken > DIRECT_BUFFER_LIMIT // len(text_frame(chunk)) - 1
    size = transport.get_write_buffer_size()
    assert not app.send_text_now(b"more")
    assert transport.get_write_buffer_size() == size
    app.done.set()


async def test_it_declines_after_a_close_and_after_the_peer_left() -> None:
    app = AcceptingApp()
    protocol, transport = await connected(app)
    protocol.close_sent = True  # the application closed the socket
    size = len(transport.written)
    assert not app.send_text_now(b"late")

    protocol.close_sent = False
    protocol.connection_lost(None)
    assert not app.send_text_now(b"later")
    assert len(transport.written) == size
    app.done.set()


async def test_it_declines_on_a_socket_the_application_refused() -> None:
    class Refusing(AcceptingApp):
        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            self.scope = scope
            await receive()
            await send({"type": "websocket.close"})  # a 403 instead of the upgrade

    app = Refusing()
    _, transport = await connected(app)
    size = len(transport.written)

    assert not app.send_text_now(b"never")
    assert len(transport.written) == size
