"""`/healthz` (the process runs) and `/readyz` (its database and Redis answer)."""

from __future__ import annotations

import asyncio
import gc
import logging
import os

from starlette.requests import Request
from starlette.responses import JSONResponse
from tortoise import connections

from ticketing import gc_tuning
from ticketing.graphql import direct_frames, shared_execution
from ticketing.services import Services

logger = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 2.0


async def healthz(_: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def _database_answers() -> bool:
    try:
        await asyncio.wait_for(
            connections.get("default").execute_query("SELECT 1"), CHECK_TIMEOUT_SECONDS
        )
    except Exception:  # any failure means "not ready"; the reason goes to the log
        logger.warning("Readiness: the database does not answer", exc_info=True)
        return False
    return True


async def _redis_answers(services: Services) -> bool:
    if services.redis is None:
        return True
    try:
        await asyncio.wait_for(services.redis.ping(), CHECK_TIMEOUT_SECONDS)
    except Exception:
        logger.warning("Readiness: Redis does not answer", exc_info=True)
        return False
    return True


async def diagnostics(request: Request) -> JSONResponse:
    """Counts that show leaks (tasks, channels, shared roots) and how much work was shared."""
    services: Services = request.app.state.services
    # Counted after a collection: a finished subscription's frames may sit in a
    # reference cycle (its cancellation's traceback) until the collector runs.
    gc_tuning.PAUSES.collect_uncounted()
    return JSONResponse(
        {
            # Counts are per worker process: this says which one answered.
            "pid": os.getpid(),
            "tasks": len(asyncio.all_tasks()),
            "broker": services.broker.stats(),
            "fan_out": services.broker.routes(),
            "live_results": {
                **shared_execution.stats(),
                "written_directly": direct_frames.written_directly(),
            },
            "shared_reads": {"started": services.reads.started, "held": len(services.reads)},
            "gc": {
                "thresholds": gc.get_threshold(),
                "frozen": gc.get_freeze_count(),
                # since the worker started, by generation (0, 1, 2)
                **gc_tuning.PAUSES.stats(),
            },
        }
    )


async def readyz(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    checks = {
        "database": await _database_answers(),
        "redis": await _redis_answers(services),
    }
    ready = all(checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
    )
