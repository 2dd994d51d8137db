"""Errors: validation errors as one clear sentence (never a stack trace), and every 4xx/5xx counted."""

from __future__ import annotations

from fastapi.exceptions import RequestValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot import metrics


def describe_validation_error(exc: RequestValidationError) -> tuple[int, str]:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return 400, "the body is not valid JSON"
    parts = []
    for e in errors:
        loc = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
        parts.append(f"{loc}: {e.get('msg', 'invalid')}")
    return 422, "; ".join(parts) or "invalid request"


ROUTE_GROUPS = (("/api/", "api"), ("/wechat", "wechat"), ("/telegram", "telegram"), ("/console", "console"),
                ("/static/", "static"), ("/metrics", "ops"), ("/readyz", "ops"), ("/healthz", "ops"))


def route_group(path: str) -> str:
    """A closed label for a path: never the path itself (it may hold an id)."""
    if path in ("", "/"):
        return "page"
    return next((group for prefix, group in ROUTE_GROUPS if path.startswith(prefix)), "other")


class CountErrors:
    """Counts every 4xx and 5xx the app answers (a crash counts as the 500 the server turns it into)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def counted(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if message["status"] >= 400:
                    metrics.observe_http_error(route_group(scope.get("path", "")), message["status"])
            await send(message)

        try:
            await self.app(scope, receive, counted)
        except Exception:
            if not started:
                metrics.observe_http_error(route_group(scope.get("path", "")), 500)
            raise
