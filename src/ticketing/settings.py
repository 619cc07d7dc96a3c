"""One validated settings object, built from the environment and passed in explicitly."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values
from strawberry.http.websocket_origin import normalize_allowed_origins

logger = logging.getLogger(__name__)

DEFAULT_DATABASE_URL = "sqlite://ticketing.sqlite3"
MIN_JWT_SECRET_BYTES = 32
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
SAMESITE_VALUES = ("lax", "strict", "none")


class SettingsError(ValueError):
    """The environment holds a value the service refuses to start with."""


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    # Every Redis key and channel starts with this, so that deployments (and test
    # runs) can share one Redis server without seeing each other's data.
    redis_prefix: str = "ticketing:"
    jwt_secret: str = field(default_factory=lambda: secrets.token_urlsafe(48), repr=False)
    jwt_secret_generated: bool = True
    jwt_issuer: str = "ticketing"
    jwt_audience: str = "ticketing-api"
    access_token_ttl_seconds: int = 15 * 60
    refresh_token_ttl_seconds: int = 30 * 24 * 3600
    cookie_secure: bool = False
    cookie_samesite: str = "lax"
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "info"
    cors_origins: tuple[str, ...] = ()
    graphiql: bool = True
    # GraphQL and HTTP limits (docs/security-graphql-http.md). Introspection off
    # also keeps error messages from naming the schema (no "Did you mean …?", no
    # type the document did not write).
    introspection: bool = True
    # Characters in a document, checked before parsing (long values go in variables).
    max_query_length: int = 16_384
    max_query_depth: int = 12
    max_query_tokens: int = 1000
    max_query_aliases: int = 30
    max_query_cost: int = 10_000
    max_request_body_bytes: int = 1024 * 1024
    request_timeout_seconds: float = 30.0
    # Slow clients (ticketing/http_protocol.py): the time a request's headers may
    # take, and the connections (HTTP and WebSocket) one worker process holds.
    request_header_timeout_seconds: float = 10.0
    max_connections_per_worker: int = 16_384
    # Failed log-ins per window: from clients unknown to the account, per email
    # and per address; from a browser that logged in to it before (a device
    # cookie), per device (auth/throttle.py).
    login_max_failures_per_email: int = 5
    login_max_failures_per_address: int = 50
    login_max_failures_per_device: int = 10
    login_window_seconds: int = 15 * 60
    signup_max_per_address: int = 10
    signup_window_seconds: int = 3600
    # A refresh token rotated this recently yields its successor again instead
    # of counting as theft: two tabs refreshing at once (auth/sessions.py).
    refresh_reuse_grace_seconds: int = 30
    ws_connection_init_timeout_seconds: float = 10.0
    ws_max_subscriptions_per_connection: int = 50
    # Origins whose pages may open a WebSocket (besides the server's own origin);
    # WS_ALLOWED_ORIGINS, or CORS_ORIGINS when that is unset. Normalized.
    ws_allowed_origins: tuple[str, ...] = ()
    # The largest message a client may send over WebSocket (uvicorn's ws_max_size).
    ws_max_message_bytes: int = 128 * 1024
    ws_max_connections_per_user: int = 20
    ws_messages_per_second: int = 20
    ws_message_burst: int = 100
    # A peer that takes none of our data (or answers no ping) for this long is dropped.
    ws_send_timeout_seconds: float = 20.0
    # Unexpected errors of one kind are reported once per window, then counted.
    error_report_window_seconds: float = 60.0
    # A diagnostic for tests and benchmarks: `extensions.sqlStatements` per response.
    expose_sql_statement_count: bool = False
    # A diagnostic for tests and operators: GET /diagnostics (tasks, broker channels).
    expose_diagnostics: bool = False
    admin_email: str | None = None
    admin_password: str | None = field(default=None, repr=False)

    @property
    def uses_mysql(self) -> bool:
        return self.database_url.startswith("mysql://")

    @classmethod
    def from_env(cls, environ: Mapping[str, str], env_file: Path | None = None) -> Settings:
        """Build settings from `environ`, with a `.env` file filling in what is unset."""
        values: dict[str, str] = {}
        if env_file is not None and env_file.is_file():
            values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
        # An empty variable counts as unset, so it cannot hide the file's value.
        values.update({k: v for k, v in environ.items() if v.strip()})
        return _parse(values)


def _parse(env: Mapping[str, str]) -> Settings:
    def text(name: str) -> str | None:
        value = env.get(name, "").strip()
        return value or None

    def integer(name: str, default: int, minimum: int = 1) -> int:
        raw = text(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
        if value < minimum:
            raise SettingsError(f"{name} must be at least {minimum}")
        return value

    def boolean(name: str, default: bool) -> bool:
        raw = text(name)
        if raw is None:
            return default
        lowered = raw.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise SettingsError(f"{name} must be true or false, not {raw!r}")

    def seconds(name: str, default: float) -> float:
        raw = text(name)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a number of seconds, not {raw!r}") from None
        if not 0 < value < float("inf"):
            raise SettingsError(f"{name} must be more than 0 seconds")
        return value

    database_url = text("DATABASE_URL") or DEFAULT_DATABASE_URL
    if not database_url.startswith(("mysql://", "sqlite://")):
        raise SettingsError("DATABASE_URL must start with mysql:// or sqlite://")
    redis_url = text("REDIS_URL")
    if redis_url is not None and not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise SettingsError("REDIS_URL must start with redis://, rediss:// or unix://")

    secret = text("JWT_SECRET")
    if secret is not None and len(secret.encode()) < MIN_JWT_SECRET_BYTES:
        raise SettingsError(f"JWT_SECRET must be at least {MIN_JWT_SECRET_BYTES} bytes long")

    log_level = (text("LOG_LEVEL") or "info").lower()
    if log_level not in LOG_LEVELS:
        raise SettingsError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")
    samesite = (text("COOKIE_SAMESITE") or "lax").lower()
    if samesite not in SAMESITE_VALUES:
        raise SettingsError(f"COOKIE_SAMESITE must be one of {', '.join(SAMESITE_VALUES)}")
    cookie_secure = boolean("COOKIE_SECURE", False)
    if samesite == "none" and not cookie_secure:
        raise SettingsError("COOKIE_SAMESITE=none needs COOKIE_SECURE=true (browsers insist)")

    admin_email, admin_password = text("ADMIN_EMAIL"), text("ADMIN_PASSWORD")
    if (admin_email is None) != (admin_password is None):
        raise SettingsError("ADMIN_EMAIL and ADMIN_PASSWORD go together")

    cors = tuple(
        o.strip().rstrip("/") for o in (text("CORS_ORIGINS") or "").split(",") if o.strip()
    )
    if "*" in cors:
        raise SettingsError("CORS_ORIGINS cannot be '*': the API sends credentials (cookies)")

    return Settings(
        database_url=database_url,
        redis_url=redis_url,
        redis_prefix=text("REDIS_PREFIX") or "ticketing:",
        jwt_issuer=text("JWT_ISSUER") or "ticketing",
        jwt_audience=text("JWT_AUDIENCE") or "ticketing-api",
        access_token_ttl_seconds=integer("ACCESS_TOKEN_TTL_SECONDS", 15 * 60),
        refresh_token_ttl_seconds=integer("REFRESH_TOKEN_TTL_SECONDS", 30 * 24 * 3600),
        cookie_secure=cookie_secure,
        cookie_samesite=samesite,
        host=text("HOST") or "127.0.0.1",
        port=integer("PORT", 8000),
        log_level=log_level,
        cors_origins=cors,
        graphiql=boolean("GRAPHIQL", True),
        introspection=boolean("INTROSPECTION", True),
        max_query_length=integer("MAX_QUERY_LENGTH", 16_384),
        max_query_depth=integer("MAX_QUERY_DEPTH", 12),
        max_query_tokens=integer("MAX_QUERY_TOKENS", 1000),
        max_query_aliases=integer("MAX_QUERY_ALIASES", 30, minimum=0),
        max_query_cost=integer("MAX_QUERY_COST", 10_000),
        max_request_body_bytes=integer("MAX_REQUEST_BODY_BYTES", 1024 * 1024),
        request_timeout_seconds=seconds("REQUEST_TIMEOUT_SECONDS", 30.0),
        request_header_timeout_seconds=seconds("REQUEST_HEADER_TIMEOUT_SECONDS", 10.0),
        max_connections_per_worker=integer("MAX_CONNECTIONS_PER_WORKER", 16_384),
        login_max_failures_per_email=integer("LOGIN_MAX_FAILURES_PER_EMAIL", 5),
        login_max_failures_per_address=integer("LOGIN_MAX_FAILURES_PER_ADDRESS", 50),
        login_max_failures_per_device=integer("LOGIN_MAX_FAILURES_PER_DEVICE", 10),
        login_window_seconds=integer("LOGIN_WINDOW_SECONDS", 15 * 60),
        signup_max_per_address=integer("SIGNUP_MAX_PER_ADDRESS", 10),
        signup_window_seconds=integer("SIGNUP_WINDOW_SECONDS", 3600),
        refresh_reuse_grace_seconds=integer("REFRESH_REUSE_GRACE_SECONDS", 30, minimum=0),
        ws_connection_init_timeout_seconds=float(integer("WS_CONNECTION_INIT_TIMEOUT_SECONDS", 10)),
        ws_max_subscriptions_per_connection=integer("WS_MAX_SUBSCRIPTIONS_PER_CONNECTION", 50),
        ws_allowed_origins=_ws_allowed_origins(text("WS_ALLOWED_ORIGINS"), cors),
        ws_max_message_bytes=integer("WS_MAX_MESSAGE_BYTES", 128 * 1024, minimum=1024),
        ws_max_connections_per_user=integer("WS_MAX_CONNECTIONS_PER_USER", 20),
        ws_messages_per_second=integer("WS_MESSAGES_PER_SECOND", 20),
        ws_message_burst=integer("WS_MESSAGE_BURST", 100),
        ws_send_timeout_seconds=float(integer("WS_SEND_TIMEOUT_SECONDS", 20)),
        error_report_window_seconds=seconds("ERROR_REPORT_WINDOW_SECONDS", 60.0),
        expose_sql_statement_count=boolean("EXPOSE_SQL_STATEMENT_COUNT", False),
        expose_diagnostics=boolean("EXPOSE_DIAGNOSTICS", False),
        admin_email=admin_email,
        admin_password=admin_password,
        jwt_secret=secret or secrets.token_urlsafe(48),
        jwt_secret_generated=secret is None,
    )


def _ws_allowed_origins(raw: str | None, cors: tuple[str, ...]) -> tuple[str, ...]:
    """WS_ALLOWED_ORIGINS, or by default the CORS origins: pages trusted with credentials."""
    name = "WS_ALLOWED_ORIGINS" if raw is not None else "CORS_ORIGINS"
    listed = [o.strip() for o in raw.split(",") if o.strip()] if raw is not None else list(cors)
    if "*" in listed:
        raise SettingsError(f"{name} cannot be '*': any page could use the socket")
    normalized: set[str] = set()
    for origin in listed:
        try:
            normalized |= normalize_allowed_origins([origin])
        except ValueError:
            raise SettingsError(
                f"{name}: {origin!r} is not an origin like https://app.example.com"
            ) from None
    return tuple(sorted(normalized))


def warn_about_defaults(settings: Settings) -> None:
    """Log, once at start-up, the defaults that are fine on a laptop and wrong in production."""
    if settings.jwt_secret_generated:
        logger.warning(
            "JWT_SECRET is not set: using a random secret for this process only; "
            "tokens will not survive a restart and several workers will not accept each "
            "other's tokens. Set JWT_SECRET (32 bytes or more) in production."
        )
    if settings.redis_url is None:
        logger.warning(
            "REDIS_URL is not set: sessions, throttling and events stay inside this one "
            "process. Set REDIS_URL to run several processes."
        )
