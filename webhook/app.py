"""The FastAPI app: a thin entry point. Verify, parse, call the engine, render."""

from __future__ import annotations

import gc
import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot.bootstrap import Preloaded, Services, bootstrap
from bot.cpus import keep, pin_this_thread
from bot.settings import Settings
from bot.tips.retention import start_retention
from webhook.body import MAX_BODY, BodyLimit
from webhook.chat import ChatFastPath, build_chat_limits
from webhook.chat import router as chat_router
from webhook.chat_image import IMAGE_PATH, MAX_UPLOAD_BODY
from webhook.chat_image import router as chat_image_router
from webhook.console import router as console_router
from webhook.console.context import console_state
from webhook.console.context import error_page as console_error_page
from webhook.errors import CountErrors, describe_validation_error
from webhook.headers import SecurityHeaders
from webhook.ops import router as ops_router
from webhook.telegram import router as telegram_router
from webhook.wechat import router as wechat_router

STATIC = Path(__file__).resolve().parent / "static"
log = logging.getLogger(__name__)


def _lifespan(settings: Settings | None, preloaded: Preloaded | None = None):  # type: ignore[no-untyped-def]
    """Start-up wires the services (unless a test gave them), then the background jobs; shutdown undoes it.

    `preloaded`: the read-only parts a preforking server loaded before its workers forked (webhook/serve.py)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # type: ignore[no-untyped-def]
        if getattr(app.state, "services", None) is None:
            app.state.services = bootstrap(settings or Settings(), preloaded=preloaded)
            # The model, the content and jieba's dictionary are a few million long-lived objects; without
            # this, every full collection walks them all and stalls every request for tens of milliseconds.
            # Only for a process of its own: a test that passes its services would freeze its garbage too.
            gc.collect()
            gc.freeze()
        services = app.state.services
        keeper = None
        if services.turns is not None:  # the loop on the CPU of its turn threads, when they are pinned (bot/cpus.py)
            pin_this_thread(services.turns.cpu)
            keeper = keep(services.settings.pin_cpus, services.turns.cpu)  # off that CPU when others crowd it
        app.state.chat_limits = build_chat_limits(services.settings, services.hasher.digest)
        app.state.console = console_state(services)
        retention = start_retention(services)
        yield
        retention.stop()
        if keeper is not None:
            keeper.stop()
        app.state.services.db.dispose()

    return lifespan


def create_app(settings: Settings | None = None, services: Services | None = None,
               preloaded: Preloaded | None = None) -> FastAPI:
    """Build the app; the services are wired at start-up (lifespan), or given by a test."""
    known = settings or (services.settings if services is not None else None)
    # In production the API description (/docs, /redoc, /openapi.json) is not served.
    production = (known.environment if known is not None else Settings().environment) == "production"
    app = FastAPI(title="FundGuard", version="0.1.0", lifespan=_lifespan(settings, preloaded),
                  description="防范非法集资智能问答：咨询、风险检查、匿名举报",
                  docs_url=None if production else "/docs", redoc_url=None if production else "/redoc",
                  openapi_url=None if production else "/openapi.json")
    app.state.services = services

    app.add_middleware(ChatFastPath)  # innermost of ours: a chat message skips FastAPI's own layers
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodyLimit, limit=MAX_BODY, paths={IMAGE_PATH: MAX_UPLOAD_BODY})
    app.add_middleware(CountErrors)  # outermost of ours: a 413 of the body limit counts too
    _add_error_handlers(app)
    _add_routes(app)
    return app


def _add_error_handlers(app: FastAPI) -> None:
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


def _add_routes(app: FastAPI) -> None:
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
