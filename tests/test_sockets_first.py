"""SocketsFirst: a WebSocket to /graphql skips the HTTP middleware; everything else passes it."""

from __future__ import annotations

from typing import Any

from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from ticketing.app import SocketsFirst


class Recorded:
    def __init__(self) -> None:
        self.middleware: list[tuple[str, str]] = []
        self.sockets: list[Scope] = []


RECORDED = Recorded()


class RecordingMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        RECORDED.middleware.append((scope["type"], scope["path"]))
        await self.app(scope, receive, send)


async def socket_app(scope: Scope, receive: Receive, send: Send) -> None:
    RECORDED.sockets.append(scope)
    await send({"type": "websocket.close", "code": 1000})


async def hello(_: Any) -> PlainTextResponse:
    return PlainTextResponse("hello")


def _app() -> SocketsFirst:
    return SocketsFirst(
        socket_path="/graphql",
        socket_app=socket_app,
        routes=[Route("/hello", hello)],
        middleware=[Middleware(RecordingMiddleware)],
    )


async def _call(app: SocketsFirst, scope_type: str, path: str) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return (
            {"type": "websocket.connect"} if scope_type == "websocket" else {"type": "http.request"}
        )

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {"type": scope_type, "path": path, "headers": [], "query_string": b"", "method": "GET"}
    await app(scope, receive, send)
    return sent


async def test_a_socket_to_graphql_goes_straight_to_the_socket_app() -> None:
    app = _app()
    RECORDED.middleware.clear()
    RECORDED.sockets.clear()

    sent = await _call(app, "websocket", "/graphql")

    assert sent == [{"type": "websocket.close", "code": 1000}]
    assert RECORDED.middleware == []
    assert [scope["app"] for scope in RECORDED.sockets] == [app]  # websocket.app.state works


async def test_http_and_other_sockets_pass_the_middleware() -> None:
    app = _app()
    RECORDED.middleware.clear()
    RECORDED.sockets.clear()

    answered = await _call(app, "http", "/hello")
    await _call(app, "websocket", "/elsewhere")

    assert answered[0]["status"] == 200
    assert RECORDED.middleware == [("http", "/hello"), ("websocket", "/elsewhere")]
    assert RECORDED.sockets == []
