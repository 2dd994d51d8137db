"""The FastAPI app: a thin entry point. Verify, parse, call the engine, render."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.bootstrap import Services, bootstrap
from bot.settings import Settings
from bot.textnorm import ascii_digits
from webhook.chat import router as chat_router
from webhook.chat_image import IMAGE_PATH, MAX_UPLOAD_BODY
from webhook.chat_image import router as chat_image_router
from webhook.console import router as console_router
from webhook.console.context import error_page as console_error_page
from webhook.errors import describe_validation_error
from webhook.ops import router as ops_router
from webhook.telegram import router as telegram_router
from webhook.wechat import router as wechat_router

STATIC = Path(__file__).resolve().parent / "static"
MAX_BODY = 256 * 1024
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
log = logging.getLogger(__name__)


async def _housekeeping(services: Services, every: float = 24 * 3600, first: float = 60) -> None:
    """On a schedule: purge closed tips past retention and old rate-limit rows."""
    await asyncio.sleep(first)
    while True:
        try:
            await asyncio.to_thread(purge_expired, services)
        except Exception as exc:  # keep the schedule alive; the next run tries again
            log.warning("housekeeping failed", extra={"error_type": type(exc).__name__})
        await asyncio.sleep(every)


async def _draft_sweeper(services: Services) -> None:
    """Every few minutes: erase tip drafts idle past FUNDGUARD_DRAFT_TTL_MINUTES (they hold names and phones)."""
    ttl = timedelta(minutes=services.settings.draft_ttl_minutes)
    every = max(30.0, min(300.0, ttl.total_seconds() / 6))
    while True:
        try:
            await asyncio.to_thread(purge_drafts, services)
        except Exception as exc:  # the next round tries again
            log.warning("draft purge failed", extra={"error_type": type(exc).__name__})
        await asyncio.sleep(every)


def purge_drafts(services: Services) -> int:
    from bot.tips.drafts import purge_stale_drafts

    with services.uow() as uow:
        n = purge_stale_drafts(uow.session, timedelta(minutes=services.settings.draft_ttl_minutes))
        uow.commit()
    return n


def purge_expired(services: Services) -> int:
    from bot.store.ratelimit import RateLimiter

    with services.uow() as uow:
        n = services.tips.purge_closed(uow.session, timedelta(days=services.settings.tip_retention_days))
        RateLimiter(uow.session).prune(timedelta(days=2))
        services.deduper.prune(uow.session)
        uow.commit()
    if n:
        log.info("purged closed tips", extra={"count": n})
    return n


def too_large(limit: int = MAX_BODY) -> JSONResponse:
    message = f"request body too large (limit {limit} bytes)"
    return JSONResponse({"error": message, "detail": message}, 413)


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    """The body limit: a Content-Length over it is refused at once, and the bytes are counted as they arrive
    (a chunked body has no Content-Length).

    Over the limit, reading the body raises; whatever the app then answers (FastAPI turns a failed body
    read into a 400) is replaced by a JSON 413. The outermost of our middlewares.
    """

    def __init__(self, app: ASGIApp, limit: int, paths: dict[str, int] | None = None) -> None:
        self.app, self.default, self.paths = app, limit, paths or {}  # paths: a larger limit for an upload route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.paths.get(scope.get("path", ""), self.default)
        length = Headers(scope=scope).get("content-length")
        if length is not None and (not ascii_digits(length) or int(length) > limit):
            await too_large(limit)(scope, receive, send)  # said too large (or unreadable) before a byte is read
            return
        seen, over, answered = 0, False, False

        async def counted() -> Message:
            nonlocal seen, over
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    over = True
                    raise BodyTooLarge
            return message

        async def checked(message: Message) -> None:
            nonlocal answered
            if not over:
                await send(message)
            elif message["type"] == "http.response.start" and not answered:
                answered = True
                await too_large(limit)(scope, receive, send)

        try:
            await self.app(scope, counted, checked)
        except Exception:
            if not over:
                raise
            if not answered:
                await too_large(limit)(scope, receive, send)


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    """Build the app; the services are wired at start-up (lifespan), or given by a test."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if getattr(app.state, "services", None) is None:
            app.state.services = bootstrap(settings or Settings())
            # The model, the content and jieba's dictionary are a few million long-lived objects; without
            # this, every full collection walks them all and stalls every request for tens of milliseconds.
            # Only for a process of its own: a test that passes its services would freeze its garbage too.
            gc.collect()
            gc.freeze()
        housekeeping = asyncio.create_task(_housekeeping(app.state.services))
        drafts = asyncio.create_task(_draft_sweeper(app.state.services))
        yield
        housekeeping.cancel()
        drafts.cancel()
        app.state.services.db.dispose()

    known = settings or (services.settings if services is not None else None)
    # In production the API description (/docs, /redoc, /openapi.json) is not served.
    production = (known.environment if known is not None else Settings().environment) == "production"
    app = FastAPI(title="FundGuard", version="0.1.0", lifespan=lifespan,
                  description="防范非法集资智能问答：咨询、风险检查、匿名举报",
                  docs_url=None if production else "/docs", redoc_url=None if production else "/redoc",
                  openapi_url=None if production else "/openapi.json")  # FastAPI's defaults outside production
    app.state.services = services

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response

    app.add_middleware(BodyLimit, limit=MAX_BODY, paths={IMAGE_PATH: MAX_UPLOAD_BODY})

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        status, message = describe_validation_error(exc)
        return JSONResponse({"error": message, "detail": message}, status)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path == "/console" or request.url.path.startswith("/console/"):
            # staff get a page, not JSON
            return console_error_page(request, exc.status_code, getattr(exc, "headers", None))
        return JSONResponse({"error": str(exc.detail), "detail": exc.detail}, exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error", extra={"path": request.url.path, "error_type": type(exc).__name__})
        return JSONResponse({"error": "internal error; the office has been notified"}, 500)

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    @app.post("/", include_in_schema=False)
    async def no_script() -> RedirectResponse:
        # The page's form posts here only when chat.js did not run: the message is dropped, never put
        # into a URL or a log, and the person is sent back to the page (which says to enable JavaScript).
        return RedirectResponse("/", 303)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        """Liveness: the process is up."""
        return {"status": "ok"}

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(chat_router)
    app.include_router(chat_image_router)
    # --- further routers (one line each: WeChat, Telegram, console, metrics) ---
    app.include_router(console_router)
    app.include_router(telegram_router)
    app.include_router(ops_router)
    app.include_router(wechat_router)
    return app
