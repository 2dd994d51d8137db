"""The body limit of every request: refused at once by Content-Length, or counted as it arrives."""

from __future__ import annotations

from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.textnorm import ascii_digits

MAX_BODY = 256 * 1024


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
