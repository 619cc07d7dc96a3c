"""The database URL a server connects with: utf8mb4, our collation, and a pool big enough."""

from __future__ import annotations

from tortoise.backends.base.config_generator import expand_db_url

from ticketing.db import MYSQL_POOL_MAXSIZE, connection_url


def _credentials(url: str) -> dict[str, object]:
    credentials: dict[str, object] = expand_db_url(connection_url(url))["credentials"]
    return credentials


def test_a_mysql_url_gets_utf8mb4_and_a_pool_of_our_size() -> None:
    credentials = _credentials("mysql://app:secret@db.internal:3306/ticketing")

    assert credentials["charset"] == "utf8mb4"
    assert credentials["maxsize"] == MYSQL_POOL_MAXSIZE  # what Tortoise hands to asyncmy's pool
    assert MYSQL_POOL_MAXSIZE > 5  # Tortoise's own default, which starved waiters


def test_what_the_operator_sets_in_the_url_wins() -> None:
    credentials = _credentials("mysql://app@db.internal/ticketing?maxsize=7&charset=utf8mb4")

    assert credentials["maxsize"] == 7


def test_a_sqlite_url_is_left_alone() -> None:
    assert connection_url("sqlite://ticketing.sqlite3") == "sqlite://ticketing.sqlite3"
