"""The per-process collaborators (stores, clients), built from the settings in one place."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ticketing.auth.devices import DeviceCookies
from ticketing.auth.service import AuthService
from ticketing.auth.sessions import MemorySessionStore, RedisSessionStore, SessionStore
from ticketing.auth.throttle import (
    AttemptCounter,
    LoginThrottle,
    MemoryAttemptCounter,
    RedisAttemptCounter,
    SignUpThrottle,
)
from ticketing.auth.tokens import RefreshSuccession, TokenCodec
from ticketing.realtime.broker import Broker
from ticketing.realtime.memory import MemoryBroker
from ticketing.realtime.redis import RedisBroker
from ticketing.realtime.shared_reads import SharedReads
from ticketing.settings import Settings

REDIS_POOL_SIZE = 100
REDIS_POOL_WAIT_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    auth: AuthService
    broker: Broker
    redis: Redis | None
    # Reads that the subscribers of one event share (chat replays after a gap).
    reads: SharedReads = field(default_factory=SharedReads)


def connect_redis(url: str) -> Redis:
    # One client (one pool) per process. Timeouts so that a dead Redis fails a
    # request quickly instead of hanging it; health checks catch half-open sockets.
    # A few quick retries on a connection error: after a Redis restart every
    # pooled connection is stale, and without them the first command on each
    # fails (redis-py retries nothing by default).
    # A blocking pool: a burst of more concurrent commands than connections
    # waits for a free one (briefly) instead of failing at once, which the
    # fan-out benchmark saw as lost subscriptions under load.
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=REDIS_POOL_SIZE,
        timeout=REDIS_POOL_WAIT_SECONDS,
        decode_responses=True,
        socket_connect_timeout=2,
        socket_timeout=5,
        health_check_interval=15,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), retries=3),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
    )
    return Redis(connection_pool=pool)


@asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[Services]:
    redis = connect_redis(settings.redis_url) if settings.redis_url else None
    sessions: SessionStore
    counter: AttemptCounter
    broker: Broker
    if redis is None:
        sessions, counter = MemorySessionStore(), MemoryAttemptCounter()
        broker = MemoryBroker()
    else:
        sessions = RedisSessionStore(redis, settings.redis_prefix)
        counter = RedisAttemptCounter(redis, settings.redis_prefix)
        broker = RedisBroker(redis, settings.redis_prefix)
    auth = AuthService(
        sessions=sessions,
        throttle=LoginThrottle(
            counter=counter,
            max_per_email=settings.login_max_failures_per_email,
            max_per_address=settings.login_max_failures_per_address,
            max_per_device=settings.login_max_failures_per_device,
            window_seconds=settings.login_window_seconds,
        ),
        signups=SignUpThrottle(
            counter=counter,
            max_per_address=settings.signup_max_per_address,
            window_seconds=settings.signup_window_seconds,
        ),
        codec=TokenCodec(
            secret=settings.jwt_secret,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            ttl_seconds=settings.access_token_ttl_seconds,
        ),
        succession=RefreshSuccession(secret=settings.jwt_secret),
        devices=DeviceCookies(secret=settings.jwt_secret),
        refresh_ttl_seconds=settings.refresh_token_ttl_seconds,
        refresh_reuse_grace_seconds=settings.refresh_reuse_grace_seconds,
        broker=broker,
    )
    await broker.start()
    try:
        yield Services(settings=settings, auth=auth, broker=broker, redis=redis)
    finally:
        await broker.close()
        if redis is not None:
            await redis.aclose()
