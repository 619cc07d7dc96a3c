"""Context.principal: once per operation; a socket keeps its user row for a few seconds.

The auth service is a stand-in that records which check each operation made:
the full one (`authenticate`: token, session, user row) or the re-check
(`recheck`: expiry and session, the user row kept).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import pytest
from starlette.requests import Request
from starlette.websockets import WebSocket

from ticketing.errors import Unauthenticated
from ticketing.graphql import context as context_module
from ticketing.graphql.context import Context

TOKEN = "a-token"  # a stand-in, never decoded


class Auth:
    def __init__(self) -> None:
        self.checks: list[str] = []
        self.session_ended = False

    async def authenticate(self, token: str) -> object:
        self.checks.append("authenticate")
        return SimpleNamespace(user=SimpleNamespace(id=len(self.checks)), token=token)

    async def recheck(self, principal: object) -> object:
        self.checks.append("recheck")
        if self.session_ended:
            raise Unauthenticated("The session has ended. Log in again.")
        return principal


async def _never() -> Any:
    raise AssertionError("not used")


def _context(auth: Auth, *, socket: bool) -> Context:
    services = cast(Any, SimpleNamespace(auth=auth))
    if socket:
        scope = {"type": "websocket", "path": "/graphql", "headers": []}
        request: Any = WebSocket(scope, receive=_never, send=_never)
        params: dict[str, object] | None = {"authorization": f"Bearer {TOKEN}"}
    else:
        headers = [(b"authorization", f"Bearer {TOKEN}".encode())]
        request = Request({"type": "http", "path": "/graphql", "headers": headers})
        params = None
    return Context(
        services=services,
        request=request,
        response=None,
        loaders=cast(Any, None),
        connection_params=params,
    )


async def _operation(context: Context) -> Any:
    """What SessionPerOperation and a resolver do for one operation."""
    context.forget_principal()
    first = await context.principal()
    assert await context.principal() is first  # once per operation
    return first


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [1000.0]
    monkeypatch.setattr(context_module.time, "monotonic", lambda: now[0])
    return now


async def test_a_sockets_operations_soon_after_a_full_check_only_recheck(
    clock: list[float],
) -> None:
    auth = Auth()
    context = _context(auth, socket=True)

    connected = await _operation(context)  # connection_init
    clock[0] += context_module.USER_ROW_REUSE_SECONDS
    subscribed = await _operation(context)

    assert auth.checks == ["authenticate", "recheck"]
    assert subscribed is connected  # the same user row


async def test_after_the_reuse_window_the_next_operation_checks_in_full(
    clock: list[float],
) -> None:
    auth = Auth()
    context = _context(auth, socket=True)

    await _operation(context)
    clock[0] += context_module.USER_ROW_REUSE_SECONDS + 0.1
    reloaded = await _operation(context)
    clock[0] += 1
    await _operation(context)

    assert auth.checks == ["authenticate", "authenticate", "recheck"]
    assert reloaded.user.id == 2  # a fresh row, and the window starts again from it


async def test_a_session_ended_in_the_window_refuses_the_operation(clock: list[float]) -> None:
    auth = Auth()
    context = _context(auth, socket=True)
    await _operation(context)

    auth.session_ended = True
    with pytest.raises(Unauthenticated):
        await _operation(context)


async def test_every_http_request_checks_in_full(clock: list[float]) -> None:
    auth = Auth()
    context = _context(auth, socket=False)

    await _operation(context)
    await _operation(context)

    assert auth.checks == ["authenticate", "authenticate"]
