"""The application factory: one Starlette app serving `/graphql`, `/healthz` and `/readyz`."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from tortoise.contrib.starlette import RegisterTortoise

from ticketing.auth import passwords
from ticketing.configuration import service as configuration
from ticketing.cors import StrictCORSMiddleware
from ticketing.db import config_for, prepare_sqlite
from ticketing.gc_tuning import tune_for_serving
from ticketing.graphql.limits import OperationLimits
from ticketing.graphql.schema import build_schema
from ticketing.graphql.view import build_view
from ticketing.health import diagnostics, healthz, readyz
from ticketing.http_limits import BodySizeLimit, RequestTimeout
from ticketing.services import open_services
from ticketing.settings import Settings, warn_about_defaults
from ticketing.sqlite_schema import ensure_sqlite_schema
from ticketing.users.service import ensure_admin

logger = logging.getLogger(__name__)


async def _prepare_database(settings: Settings) -> None:
    if not settings.uses_mysql:
        # aerich's migrations are MySQL DDL; the embedded SQLite file builds its
        # schema from the models instead (safe: only what is missing is created).
        await prepare_sqlite()
        await ensure_sqlite_schema()
        await configuration.ensure_defaults()
    if settings.admin_email and settings.admin_password:
        await ensure_admin(
            email=settings.admin_email, password=settings.admin_password, display_name=None
        )


def create_app(settings: Settings) -> Starlette:
    schema = build_schema(
        count_sql_statements=settings.expose_sql_statement_count,
        limits=OperationLimits(
            max_length=settings.max_query_length,
            max_depth=settings.max_query_depth,
            max_tokens=settings.max_query_tokens,
            max_aliases=settings.max_query_aliases,
            max_cost=settings.max_query_cost,
        ),
        introspection=settings.introspection,
        error_report_window_seconds=settings.error_report_window_seconds,
    )
    view = build_view(schema, settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        warn_about_defaults(settings)
        async with RegisterTortoise(app, config=config_for(settings)):
            await _prepare_database(settings)
            await passwords.warm_up()
            async with open_services(settings) as services:
                app.state.services = services
                yield

    routes = [
        Route("/graphql", view, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", view),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
    ]
    if settings.expose_diagnostics:
        routes.append(Route("/diagnostics", diagnostics, methods=["GET"]))
    return SocketsFirst(
        socket_path="/graphql",
        socket_app=view,
        routes=routes,
        middleware=_middleware(settings),
        lifespan=lifespan,
    )


class SocketsFirst(Starlette):
    """Starlette, except that a WebSocket to `socket_path` goes straight to `socket_app`.

    The middleware (timeouts, body limits, CORS, error pages) and the router
    hand a socket on unchanged, but each layer's frame stays alive for as long
    as the socket does, hours: ~3.5 KB a socket, and a hop for every message.
    """

    def __init__(self, *, socket_path: str, socket_app: ASGIApp, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._socket_path = socket_path
        self._socket_app = socket_app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == self._socket_path:
            scope["app"] = self  # as Starlette sets it: `websocket.app.state`
            await self._socket_app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def _middleware(settings: Settings) -> list[Middleware]:
    """Outermost first: CORS headers also go on the limits' 413 and 503 answers."""
    middleware = []
    if settings.cors_origins:
        middleware.append(
            Middleware(
                StrictCORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_credentials=True,
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["authorization", "content-type"],
                max_age=600,
            )
        )
    middleware.append(Middleware(RequestTimeout, seconds=settings.request_timeout_seconds))
    middleware.append(Middleware(BodySizeLimit, max_bytes=settings.max_request_body_bytes))
    return middleware


def app_from_environment() -> Starlette:
    """The factory uvicorn calls in each worker: settings from the environment and `.env`."""
    app = create_app(Settings.from_env(os.environ, env_file=Path(".env")))
    # Only here, in a serving worker: the app, its schema and the imports exist
    # now and live as long as the process (tests that build many apps in one
    # process keep CPython's defaults).
    tune_for_serving()
    return app
