"""Session store: create, revoke, refresh rotation with reuse detection and its grace, expiry."""

from __future__ import annotations

import asyncio
from collections import Counter

from ticketing.auth.sessions import Rotation, RotationResult, SessionStore
from ticketing.auth.tokens import hash_secret, new_session_id

TTL = 60
USER_ID = 42


async def _started(store: SessionStore, digest: str = "digest-1", ttl: int = TTL) -> str:
    session_id = new_session_id()
    await store.create(
        session_id=session_id, user_id=USER_ID, refresh_digest=digest, ttl_seconds=ttl
    )
    return session_id


async def _rotate(
    store: SessionStore, session_id: str, presented: str, successor: str, grace: float = 0
) -> RotationResult:
    return await store.rotate(
        session_id=session_id,
        presented_digest=presented,
        successor_digest=successor,
        ttl_seconds=TTL,
        grace_seconds=grace,
    )


async def test_created_session_names_its_user(session_store: SessionStore) -> None:
    # given / when
    session_id = await _started(session_store)
    # then
    assert await session_store.user_of(session_id) == USER_ID


async def test_revoke_ends_the_session(session_store: SessionStore) -> None:
    # given
    session_id = await _started(session_store)
    # when
    await session_store.revoke(session_id)
    # then
    assert await session_store.user_of(session_id) is None


async def test_rotate_then_reuse_of_old_digest_revokes_the_session(
    session_store: SessionStore,
) -> None:
    # given
    session_id = await _started(session_store, digest="d1")
    # when
    rotated = await _rotate(session_store, session_id, "d1", "d2")
    # then
    assert (rotated.outcome, rotated.user_id) == (Rotation.ROTATED, USER_ID)
    assert await session_store.user_of(session_id) == USER_ID

    # when the spent digest is presented again
    reused = await _rotate(session_store, session_id, "d1", "d3")
    # then the whole session is gone, even for the current digest
    assert (reused.outcome, reused.user_id) == (Rotation.REUSED, USER_ID)
    assert await session_store.user_of(session_id) is None
    again = await _rotate(session_store, session_id, "d2", "d4")
    assert again.outcome is Rotation.UNKNOWN
    assert again.user_id is None


async def test_rotate_with_a_foreign_digest_is_unknown_and_keeps_the_session(
    session_store: SessionStore,
) -> None:
    # given
    session_id = await _started(session_store, digest="d1")
    # when
    result = await _rotate(session_store, session_id, "never-issued", "d2")
    # then
    assert result.outcome is Rotation.UNKNOWN
    assert result.user_id is None
    assert await session_store.user_of(session_id) == USER_ID
    assert (await _rotate(session_store, session_id, "d1", "d2")).outcome is Rotation.ROTATED


async def test_rotate_of_an_unknown_session_is_unknown(session_store: SessionStore) -> None:
    # given / when
    result = await _rotate(session_store, new_session_id(), "d1", "d2")
    # then
    assert result.outcome is Rotation.UNKNOWN
    assert result.user_id is None
    assert await session_store.user_of(new_session_id()) is None


async def test_session_expires_after_its_ttl(session_store: SessionStore) -> None:
    # given
    session_id = await _started(session_store, digest="d1", ttl=1)
    assert await session_store.user_of(session_id) == USER_ID
    # when
    await asyncio.sleep(1.2)
    # then
    assert await session_store.user_of(session_id) is None
    assert (await _rotate(session_store, session_id, "d1", "d2")).outcome is Rotation.UNKNOWN


async def test_concurrent_rotations_of_one_digest_rotate_exactly_once(
    session_store: SessionStore,
) -> None:
    # given
    session_id = await _started(session_store, digest="d1")
    # when
    results = await asyncio.gather(
        *(_rotate(session_store, session_id, "d1", hash_secret(f"new-{i}")) for i in range(20))
    )
    # then
    outcomes = Counter(result.outcome for result in results)
    assert outcomes[Rotation.ROTATED] == 1
    assert outcomes[Rotation.REUSED] + outcomes[Rotation.UNKNOWN] == 19
    # a second presentation of the spent digest is reuse: the session must be gone
    assert outcomes[Rotation.REUSED] >= 1
    assert await session_store.user_of(session_id) is None


async def test_within_the_grace_a_rotated_digest_yields_its_successor_again(
    session_store: SessionStore,
) -> None:
    # given two tabs that present one refresh token at once
    session_id = await _started(session_store, digest="d1")
    # when both rotate it to its (derived, hence equal) successor within the grace
    results = await asyncio.gather(
        *(_rotate(session_store, session_id, "d1", "d2", grace=30) for _ in range(20))
    )
    # then one rotated, the others were given the same successor, and the session lives on
    outcomes = Counter(result.outcome for result in results)
    assert outcomes == {Rotation.ROTATED: 1, Rotation.RETRIED: 19}
    assert {result.user_id for result in results} == {USER_ID}
    assert await session_store.user_of(session_id) == USER_ID
    assert (await _rotate(session_store, session_id, "d2", "d3", grace=30)).outcome is (
        Rotation.ROTATED
    )


async def test_after_the_grace_a_rotated_digest_is_reuse_again(
    session_store: SessionStore,
) -> None:
    # given a token rotated longer ago than the grace
    session_id = await _started(session_store, digest="d1")
    await _rotate(session_store, session_id, "d1", "d2", grace=0.5)
    await asyncio.sleep(0.7)
    # when it is presented again
    result = await _rotate(session_store, session_id, "d1", "d2", grace=0.5)
    # then it counts as theft
    assert result.outcome is Rotation.REUSED
    assert await session_store.user_of(session_id) is None


async def test_within_the_grace_a_token_rotated_twice_since_is_reuse(
    session_store: SessionStore,
) -> None:
    # given d1 rotated to d2, and d2 to d3, all within the grace
    session_id = await _started(session_store, digest="d1")
    await _rotate(session_store, session_id, "d1", "d2", grace=30)
    await _rotate(session_store, session_id, "d2", "d3", grace=30)
    # when d1 comes back: its successor is spent too, so nothing can be handed out
    result = await _rotate(session_store, session_id, "d1", "d2", grace=30)
    # then
    assert result.outcome is Rotation.REUSED
    assert await session_store.user_of(session_id) is None


async def test_only_a_token_the_session_issued_revokes_it(session_store: SessionStore) -> None:
    # given a session whose token was rotated once
    session_id = await _started(session_store, digest="d1")
    await _rotate(session_store, session_id, "d1", "d2")
    other_id = await _started(session_store, digest="e1")
    # when a digest it never issued is presented, then nothing ends
    assert await session_store.revoke_presented(session_id, "forged") is False
    assert await session_store.user_of(session_id) == USER_ID
    # when its current digest or a spent one is presented, then the session ends
    assert await session_store.revoke_presented(session_id, "d2") is True
    assert await session_store.user_of(session_id) is None
    await _rotate(session_store, other_id, "e1", "e2")
    assert await session_store.revoke_presented(other_id, "e1") is True
    assert await session_store.user_of(other_id) is None
    assert await session_store.revoke_presented(other_id, "e2") is False
