"""POST /telegram: Telegram's webhook. Verify the secret header, parse, hand the update to the channel.

The Telegram Application starts and stops with the web app through this router's lifespan (FastAPI
merges an included router's lifespan into the app's, after the app's own has wired the services).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

log = logging.getLogger(__name__)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the Telegram Application (wired by the bootstrap) when a token is configured; stop it on shutdown."""
    services = getattr(app.state, "services", None)
    runtime = services.talk.telegram_webhook if services is not None and services.talk is not None else None
    if runtime is not None:
        await runtime.start()
    app.state.telegram = runtime
    try:
        yield
    finally:
        if runtime is not None:
            await runtime.stop()
        app.state.telegram = None


router = APIRouter(lifespan=lifespan)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message, "detail": message}, status, headers=headers)


@router.post("/telegram", include_in_schema=False)
async def telegram_webhook(request: Request) -> JSONResponse:
    """Telegram's webhook: one update per request."""
    runtime = getattr(request.app.state, "telegram", None)
    if runtime is None:
        return _error(404, "the Telegram channel is not configured")
    if not runtime.check_secret(request.headers.get("X-Telegram-Bot-Api-Secret-Token")):
        return _error(403, "wrong or missing X-Telegram-Bot-Api-Secret-Token")
    try:
        data = json.loads(await request.body())
    except (ValueError, RecursionError):  # RecursionError: JSON nested deeper than the parser's stack
        return _error(400, "the body is not JSON")
    if not isinstance(data, dict) or type(data.get("update_id")) is not int:
        return _error(422, "not a Telegram update: an object with an integer update_id is required")
    if not runtime.ready:
        return _error(503, "the Telegram channel is starting", {"Retry-After": "5"})
    if not await runtime.feed(data):
        return _error(422, "not a well-formed Telegram update")
    return JSONResponse({"ok": True})
