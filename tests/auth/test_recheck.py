"""AuthService.recheck: a principal checked before holds while its token and session live."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any, cast

import pytest

from ticketing.auth.service import SESSION_ENDED, AuthService, Principal
from ticketing.auth.sessions import SessionStore
from ticketing.auth.tokens import INVALID_OR_EXPIRED
from ticketing.errors import Unauthenticated

USER_ID = 7


def _service(sessions: SessionStore) -> AuthService:
    unused = cast(Any, None)  # recheck needs the session store only
    return AuthService(
        sessions=sessions, throttle=unused, codec=unused, refresh_ttl_seconds=60, broker=unused
    )


def _principal(session_id: str, expires_in: float) -> Principal:
    user = cast(Any, SimpleNamespace(id=USER_ID))
    return Principal(
        user=user, session_id=session_id, token_expires_at=int(time.time() + expires_in)
    )


async def _session(store: SessionStore, session_id: str, user_id: int = USER_ID) -> None:
    await store.create(session_id=session_id, user_id=user_id, refresh_digest="d", ttl_seconds=60)


async def test_a_live_session_and_token_give_the_same_principal(
    session_store: SessionStore,
) -> None:
    await _session(session_store, "live")
    principal = _principal("live", expires_in=60)

    assert await _service(session_store).recheck(principal) is principal


async def test_an_ended_session_is_unauthenticated(session_store: SessionStore) -> None:
    await _session(session_store, "ended")
    await session_store.revoke("ended")

    with pytest.raises(Unauthenticated, match=SESSION_ENDED):
        await _service(session_store).recheck(_principal("ended", expires_in=60))


async def test_a_session_of_another_user_is_unauthenticated(session_store: SessionStore) -> None:
    await _session(session_store, "other", user_id=USER_ID + 1)

    with pytest.raises(Unauthenticated, match=SESSION_ENDED):
        await _service(session_store).recheck(_principal("other", expires_in=60))


async def test_an_expired_token_is_unauthenticated_though_its_session_lives(
    session_store: SessionStore,
) -> None:
    await _session(session_store, "expired")

    with pytest.raises(Unauthenticated, match=INVALID_OR_EXPIRED):
        await _service(session_store).recheck(_principal("expired", expires_in=0))
