"""The `ticketing` command: serve | migrate | create-admin | export-schema."""

from __future__ import annotations

import argparse
import asyncio
import logging
import logging.config
import os
import sys
from pathlib import Path
from typing import Any

from tortoise.exceptions import BaseORMException

from ticketing.settings import Settings, SettingsError

logger = logging.getLogger("ticketing")


WORKER_HEALTHCHECK_SECONDS = 30


def _settings() -> Settings:
    return Settings.from_env(os.environ, env_file=Path(".env"))


def _log_config(level: str) -> dict[str, Any]:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "default": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        },
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "default"},
        },
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {
            "uvicorn": {"level": level.upper()},
            "tortoise": {"level": "WARNING"},
            "aerich": {"level": "WARNING"},
        },
    }


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from ticketing.http_protocol import http_protocol
    from ticketing.open_files import make_room_for

    if args.workers > 1 and settings.redis_url is None:
        print(
            "ticketing: --workers above 1 needs REDIS_URL: without it sessions and events "
            "live inside one process.",
            file=sys.stderr,
        )
        return 2
    room = make_room_for(settings.max_connections_per_worker)
    if room < settings.max_connections_per_worker:
        logger.warning(
            "MAX_CONNECTIONS_PER_WORKER is %d, but the limit on open files (ulimit -n) leaves "
            "room for %d connections: beyond that they fail, and so may the worker's own "
            "database and Redis connections. Raise the limit or lower the setting.",
            settings.max_connections_per_worker,
            room,
        )
    uvicorn.run(
        "ticketing.app:app_from_environment",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers,
        loop="uvloop",
        # httptools, with a deadline for each request's headers and a cap on
        # open connections (uvicorn has neither; limit_concurrency is not one).
        http=http_protocol(
            header_timeout=settings.request_header_timeout_seconds,
            max_connections=settings.max_connections_per_worker,
        ),
        # websockets-sansio, dropping a peer that takes no data within the ping timeout.
        ws="ticketing.ws_protocol:WebSocketProtocol",
        ws_max_size=settings.ws_max_message_bytes,
        ws_ping_timeout=settings.ws_send_timeout_seconds,
        # Compression costs tens of KB per connection for small JSON frames.
        ws_per_message_deflate=False,
        log_config=_log_config(settings.log_level),
        proxy_headers=True,
        timeout_graceful_shutdown=10,
        # uvicorn kills a worker that misses its health check (5 s by default).
        # A worker saturated by a reconnect storm answers late but is alive;
        # killing it drops all its sockets and starts a second storm.
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
    )
    return 0


def _migrate(settings: Settings) -> int:
    from ticketing.migrate import migrate

    applied = asyncio.run(migrate(settings))
    if not settings.uses_mysql:
        print("ticketing: SQLite schema is up to date (built from the models)")
    else:
        names = f": {', '.join(applied)}" if applied else ""
        print(f"ticketing: {len(applied)} migration(s) applied{names}")
    return 0


def _create_admin(args: argparse.Namespace, settings: Settings) -> int:
    from tortoise import Tortoise

    from ticketing.db import config_for
    from ticketing.errors import DomainError
    from ticketing.sqlite_schema import ensure_sqlite_schema
    from ticketing.users.service import ensure_admin

    async def run() -> int:
        await Tortoise.init(config=config_for(settings))
        try:
            if not settings.uses_mysql:
                await ensure_sqlite_schema()
            user, created = await ensure_admin(
                email=args.email, password=args.password, display_name=args.display_name
            )
        except DomainError as error:
            print(f"ticketing: {error.message}", file=sys.stderr)
            return 1
        finally:
            await Tortoise.close_connections()
        verb = "created" if created else "is now an admin (password unchanged)"
        print(f"ticketing: admin {user.email} {verb}")
        return 0

    return asyncio.run(run())


def _export_schema() -> int:
    from ticketing.graphql.schema import export_schema

    sys.stdout.write(export_schema())
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ticketing", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the server (uvicorn)")
    serve.add_argument("--host", help="address to bind (default: HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: PORT or 8000)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    commands.add_parser("migrate", help="apply the database migrations (safe to run again)")
    admin = commands.add_parser("create-admin", help="create or promote an admin (idempotent)")
    admin.add_argument("--email", required=True)
    admin.add_argument("--password", required=True)
    admin.add_argument("--display-name")
    commands.add_parser("export-schema", help="print the GraphQL SDL")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "export-schema":
        return _export_schema()
    try:
        settings = _settings()
    except SettingsError as error:
        print(f"ticketing: {error}", file=sys.stderr)
        return 2
    logging.config.dictConfig(_log_config(settings.log_level))
    if args.command == "serve":
        return _serve(args, settings)
    try:
        if args.command == "migrate":
            return _migrate(settings)
        return _create_admin(args, settings)
    except (OSError, BaseORMException) as error:
        # The driver's message names host, user and database, never the password.
        print(f"ticketing: the database failed: {error}", file=sys.stderr)
        return 1
