"""argon2id hashing at OWASP parameters, and the timing of unknown-user verification."""

from __future__ import annotations

import statistics
import time

from ticketing.auth.passwords import hash_password, needs_rehash, verify_password

PASSWORD = "correct horse battery staple"


async def test_hash_is_argon2id_with_owasp_parameters() -> None:
    # when
    password_hash = await hash_password(PASSWORD)
    # then
    assert password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert PASSWORD not in password_hash
    assert password_hash != await hash_password(PASSWORD)  # salted


async def test_verify_accepts_the_password_and_rejects_others() -> None:
    # given
    password_hash = await hash_password(PASSWORD)
    # when / then
    assert await verify_password(password_hash, PASSWORD) is True
    assert await verify_password(password_hash, PASSWORD + "!") is False
    assert await verify_password(password_hash, "") is False
    assert await verify_password("not-a-hash", PASSWORD) is False


async def test_verify_without_a_hash_is_false() -> None:
    assert await verify_password(None, PASSWORD) is False
    assert await verify_password(None, "not-a-password-anyone-has") is False


async def _median_seconds(password_hash: str | None, runs: int = 5) -> float:
    durations = []
    for _ in range(runs):
        started = time.perf_counter()
        await verify_password(password_hash, "wrong password")
        durations.append(time.perf_counter() - started)
    return statistics.median(durations)


async def test_unknown_user_costs_as_much_as_a_wrong_password() -> None:
    # given: a stored hash, and both paths warmed up (the dummy hash is made once)
    password_hash = await hash_password(PASSWORD)
    await verify_password(None, PASSWORD)
    await verify_password(password_hash, PASSWORD)
    # when
    real = await _median_seconds(password_hash)
    dummy = await _median_seconds(None)
    # then
    assert dummy >= 0.5 * real, f"dummy {dummy * 1000:.1f} ms vs real {real * 1000:.1f} ms"


async def test_fresh_hash_needs_no_rehash() -> None:
    assert needs_rehash(await hash_password(PASSWORD)) is False


async def test_weaker_hash_needs_rehash() -> None:
    # given a hash made at lower cost than the configured one
    from argon2 import PasswordHasher, Type

    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, type=Type.ID).hash(PASSWORD)
    # when / then
    assert needs_rehash(weak) is True
    assert await verify_password(weak, PASSWORD) is True
