"""The HTTP limits as ASGI middleware: body size (while streaming) and request time."""

from __future__ import annotations

import asyncio

import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import Message, Receive, Scope, Send

from ticketing.http_limits import BodySizeLimit, RequestTimeout


def http_scope(headers: dict[str, str] | None = None) -> Scope:
    return {
        "type": "http",
        "method": "POST",
        "path": "/graphql",
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
    }


class Exchange:
    """One request as a server would drive it: body chunks in, messages out."""

    def __init__(self, chunks: list[bytes]) -> None:
        self._chunks = chunks
        self.chunks_read = 0
        self.sent: list[Message] = []

    async def receive(self) -> Message:
        if self.chunks_read >= len(self._chunks):
            await asyncio.sleep(3600)  # the client never sends the rest
        self.chunks_read += 1
        more = self.chunks_read < len(self._chunks)
        return {
            "type": "http.request",
            "body": self._chunks[self.chunks_read - 1],
            "more_body": more,
        }

    async def send(self, message: Message) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int:
        return int(self.sent[0]["status"])


async def echo_length(scope: Scope, receive: Receive, send: Send) -> None:
    body = await Request(scope, receive).body()
    await PlainTextResponse(str(len(body)))(scope, receive, send)


async def test_a_body_within_the_limit_reaches_the_application() -> None:
    exchange = Exchange([b"x" * 600, b"x" * 400])

    await BodySizeLimit(echo_length, max_bytes=1000)(http_scope(), exchange.receive, exchange.send)

    assert exchange.status == 200
    assert exchange.sent[1]["body"] == b"1000"


async def test_a_declared_length_above_the_limit_is_refused_before_reading() -> None:
    exchange = Exchange([b"x" * 1001])
    called: list[bool] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        called.append(True)

    limit = BodySizeLimit(app, max_bytes=1000)
    await limit(http_scope({"Content-Length": "1001"}), exchange.receive, exchange.send)

    assert exchange.status == 413
    assert called == []
    assert exchange.chunks_read == 0


async def test_a_streamed_body_is_refused_as_soon_as_it_passes_the_limit() -> None:
    # Chunked: no Content-Length. The client sends 3 chunks of 400 bytes and then
    # stalls; a limit that read the whole body first would wait forever.
    exchange = Exchange([b"x" * 400] * 3)

    await asyncio.wait_for(
        BodySizeLimit(echo_length, max_bytes=1000)(http_scope(), exchange.receive, exchange.send),
        timeout=2,
    )

    assert exchange.status == 413
    assert exchange.chunks_read == 3  # not one chunk more than needed to know


async def test_websockets_pass_the_body_limit_untouched() -> None:
    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    exchange = Exchange([])
    limit = BodySizeLimit(app, max_bytes=1)
    await limit({"type": "websocket", "headers": []}, exchange.receive, exchange.send)

    assert seen == ["websocket"]


async def test_a_slow_request_is_cancelled_and_answered_503(
    caplog: pytest.LogCaptureFixture,
) -> None:
    events: list[str] = []

    async def slow(scope: Scope, receive: Receive, send: Send) -> None:
        events.append("started")
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            events.append("cancelled")
            raise
        events.append("finished")

    exchange = Exchange([b""])
    started = asyncio.get_running_loop().time()

    await RequestTimeout(slow, seconds=0.05)(http_scope(), exchange.receive, exchange.send)

    assert asyncio.get_running_loop().time() - started < 1
    assert exchange.status == 503
    assert events == ["started", "cancelled"]
    assert "took more than 0.05s" in caplog.text


async def test_a_fast_request_is_untouched_by_the_timeout() -> None:
    exchange = Exchange([b"abc"])

    await RequestTimeout(echo_length, seconds=5)(http_scope(), exchange.receive, exchange.send)

    assert exchange.status == 200
    assert exchange.sent[1]["body"] == b"3"


async def test_a_timeout_of_the_application_itself_is_not_taken_for_ours() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise TimeoutError("the database did not answer")

    exchange = Exchange([b""])
    with pytest.raises(TimeoutError, match="database"):
        await RequestTimeout(app, seconds=5)(http_scope(), exchange.receive, exchange.send)


async def test_a_response_already_started_is_cut_not_replaced() -> None:
    async def streaming(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await asyncio.sleep(10)

    exchange = Exchange([b""])
    await RequestTimeout(streaming, seconds=0.05)(http_scope(), exchange.receive, exchange.send)

    assert [m["type"] for m in exchange.sent] == ["http.response.start"]
    assert exchange.status == 200
