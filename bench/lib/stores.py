"""MariaDB databases and Redis key prefixes that belong to one benchmark run."""

from __future__ import annotations

import asyncio
import os
from typing import Any
from urllib.parse import urlsplit

import redis

# Where the benchmarks find the services; the same defaults as the test suite.
MARIADB_URL = os.environ.get("BENCH_MARIADB_URL", "mysql://root:@127.0.0.1:3306")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def database_url(name: str) -> str:
    return urlsplit(MARIADB_URL)._replace(path=f"/{name}").geturl()


async def _fetch(sql: str) -> list[tuple[Any, ...]]:
    import asyncmy  # the driver the service itself uses

    parts = urlsplit(MARIADB_URL)
    connection = await asyncmy.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 3306,
        user=parts.username or "root",
        password=parts.password or "",
        autocommit=True,
    )
    try:
        async with connection.cursor() as cursor:
            await cursor.execute(sql)
            return list(await cursor.fetchall())
    finally:
        connection.close()


def sql(statement: str) -> list[tuple[Any, ...]]:
    return asyncio.run(_fetch(statement))


def create_database(name: str) -> str:
    sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    return database_url(name)


def drop_database(name: str) -> None:
    sql(f"DROP DATABASE IF EXISTS `{name}`")


def database_exists(name: str) -> bool:
    return bool(sql(f"SHOW DATABASES LIKE '{name}'"))


def redis_client() -> redis.Redis:
    return redis.Redis.from_url(REDIS_URL)


def redis_keys(prefix: str) -> int:
    with redis_client() as client:
        return sum(1 for _ in client.scan_iter(match=f"{prefix}*", count=1000))


def delete_redis_keys(prefix: str) -> int:
    deleted = 0
    with redis_client() as client:
        batch = []
        for key in client.scan_iter(match=f"{prefix}*", count=1000):
            batch.append(key)
            if len(batch) == 500:
                deleted += client.delete(*batch)
                batch.clear()
        if batch:
            deleted += client.delete(*batch)
    return deleted


def versions() -> dict[str, str]:
    with redis_client() as client:
        redis_version = str(client.info("server").get("redis_version"))
    return {"mariadb": str(sql("SELECT VERSION()")[0][0]), "redis": redis_version}
