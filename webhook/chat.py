"""POST /api/chat: the web channel's JSON API (shared/spec/chat-api.md)."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field, StringConstraints, field_validator

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


@router.post("/api/chat", response_model=ChatResponse,
             responses={429: {"description": "too many messages from this user or address; see Retry-After"}})
async def chat(body: ChatRequest, request: Request) -> Any:
    """Send one message to the bot and get its replies."""
    services = request.app.state.services
    address = request.client.host if request.client else None
    refused = await chat_limits(request).check(body.user, address)
    if refused is not None:
        return refused
    turn = await services.turns.handle(to_inbound(body.user, body.text, address))  # in a turn thread
    # serialised once here: the reply is built from our own Turn, so it is not validated again against the model
    return Response(json.dumps(to_response(turn), ensure_ascii=False, separators=(",", ":")).encode(),
                    media_type="application/json")
