"""POST /api/chat: the web channel's JSON API (shared/spec/chat-api.md).

The route is what the API documents and what answers every refused body (400, 422). A well-formed message is
answered by `ChatFastPath` before FastAPI's routing and request parsing run: the same model checks it, the same
`answer` replies, and whatever the model refuses goes on to the route, so an error is exactly the route's.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field, StringConstraints, ValidationError, field_validator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.channels.web import to_inbound, to_response
from bot.settings import Settings
from webhook.limits import ChatLimits


class JSONBodyRoute(APIRoute):
    """The body is read as JSON whatever the Content-Type says.

    `curl -d '{...}'` sends form-urlencoded; people and office scripts do that. A body that is not JSON
    still gets a clear 400.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def as_json(request: Request) -> Response:
            kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if not (kind == "application/json" or kind.endswith("+json")):
                headers = [(k, v) for k, v in request.scope["headers"] if k.lower() != b"content-type"]
                request = Request({**request.scope, "headers": [*headers, (b"content-type", b"application/json")]},
                                  request.receive)
            return await handler(request)

        return as_json


router = APIRouter(route_class=JSONBodyRoute)
CHAT_PATH = "/api/chat"


class ChatRequest(BaseModel):
    user: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")] = Field(
        description="an opaque id, 1-64 chars of [A-Za-z0-9_-]")
    text: str = Field(min_length=1, max_length=2000, description="the person's message, 1-2000 chars")

    @field_validator("text")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("text must not be blank")
        return v


class ReplyOut(BaseModel):
    text: str
    buttons: list[str] = []


class ChatResponse(BaseModel):
    replies: list[ReplyOut]
    topic: str
    intent: str
    confidence: float
    red_flags: list[str]
    expects: str | None
    receipt: str | None
    basis: str | None = None  # extension: the legal basis of the answer, e.g. 《防范和处置非法集资条例》第二条


def build_chat_limits(settings: Settings, keyer: Callable[[str, str], str]) -> ChatLimits:
    """The per-user and per-address limits (shared through Redis when FUNDGUARD_REDIS_URL is set); at start-up."""
    redis = None
    if settings.redis_url:
        from redis.asyncio import Redis

        redis = Redis.from_url(settings.redis_url, socket_connect_timeout=0.5, socket_timeout=0.5)
    return ChatLimits(settings.chat_per_user_per_minute, settings.chat_per_address_per_minute, redis=redis,
                      keyer=keyer)


def chat_limits(request: Request) -> ChatLimits:
    return request.app.state.chat_limits  # type: ignore[no-any-return]


@router.post(CHAT_PATH, response_model=ChatResponse,
             responses={429: {"description": "too many messages from this user or address; see Retry-After"}})
async def chat(body: ChatRequest, request: Request) -> Any:
    """Send one message to the bot and get its replies."""
    return await answer(request.app.state, body, request.client.host if request.client else None)


async def answer(state: Any, body: ChatRequest, address: str | None) -> Response:
    """The limits, then the turn (in a turn thread); the app's state holds both."""
    limits: ChatLimits = state.chat_limits
    refused = await limits.check(body.user, address)
    if refused is not None:
        return refused
    turn = await state.services.turns.handle(to_inbound(body.user, body.text, address))
    # serialised once here: the reply is built from our own Turn, so it is not validated again against the model
    return Response(json.dumps(to_response(turn), ensure_ascii=False, separators=(",", ":")).encode(),
                    media_type="application/json")


class ChatFastPath:
    """POST /api/chat without FastAPI's per-request layers (routing, the exception middleware, the JSON-body route,
    dependency solving), which cost more than the rest of the server's work on a message.

    Inside our middlewares: the body limit, the security headers, the error counts and the 500 handler all apply.
    A body the model refuses (not JSON, a bad field, nothing at all) is handed on unchanged to the route."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != CHAT_PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        body, more = await _read_body(receive)
        try:
            message = ChatRequest.model_validate_json(body) if not more else None
        except ValidationError:
            message = None
        if message is None:  # the route reads the same bytes and answers its own 400 or 422
            await self.app(scope, _replay(body, more, receive), send)
            return
        client = scope.get("client")
        response = await answer(scope["app"].state, message, client[0] if client else None)
        await response(scope, receive, send)


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """The whole body; `more` is True when the client went away before sending all of it."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), True
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), False


def _replay(body: bytes, cut: bool, receive: Receive) -> Receive:
    """A receive that gives the bytes already read again, then (or, when the client left, at once) the real one."""
    pending = not cut

    async def again() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again
