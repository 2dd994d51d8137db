"""Operations endpoints: readiness and Prometheus metrics (liveness /healthz is in app.py)."""

from __future__ import annotations

import asyncio
import hmac
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text

from bot import metrics

router = APIRouter()


def _database(services: Any) -> str:
    with services.db.connect() as conn:
        conn.execute(text("select 1"))
    return "ok"


def _redis(url: str) -> str:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    finally:
        client.close()
    return "ok"


def _nlu(services: Any) -> dict[str, Any]:
    nlu = services.nlu
    health = getattr(nlu, "health", None)
    if callable(health):
        return dict(health())
    return {"backend": getattr(nlu, "name", "embedded"), "status": "ok"}


async def _check(name: str, fn: Any, *args: Any) -> tuple[str, Any, bool]:
    try:
        return name, await asyncio.wait_for(asyncio.to_thread(fn, *args), timeout=3), True
    except Exception as exc:  # the reason is the error's type: no connection strings, no secrets
        return name, f"error: {type(exc).__name__}", False


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Readiness: the database answers, Redis answers (when configured), the NLU's state."""
    services = request.app.state.services
    checks = [_check("database", _database, services)]
    if services.settings.redis_url:
        checks.append(_check("redis", _redis, services.settings.redis_url))
    results = await asyncio.gather(*checks)
    body: dict[str, Any] = {name: value for name, value, _ in results}
    ready = all(ok for _, _, ok in results)
    body["nlu"] = _nlu(services)  # a Rasa outage is degraded, not unready: the embedded fallback answers
    body["status"] = "ready" if ready else "unready"
    return JSONResponse(body, 200 if ready else 503)


@router.get("/metrics")
async def metrics_endpoint(request: Request) -> Response:
    """Prometheus metrics (text exposition format)."""
    settings = request.app.state.services.settings
    token = settings.metrics_token
    if not token and settings.environment == "production":
        return JSONResponse({"error": "metrics are off in production until FUNDGUARD_METRICS_TOKEN is set"}, 404)
    if token:
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return JSONResponse({"error": "metrics need the bearer token (FUNDGUARD_METRICS_TOKEN)"}, 401)
    return Response(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")
