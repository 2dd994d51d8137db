"""/wechat: the WeChat official account's callback. Verify, parse, call the engine, render."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from bot.channels.wechat.gateway import WeChatGateway
from bot.channels.wechat.protocol import MAX_XML, Rejected

router = APIRouter()


def _gateway(request: Request) -> WeChatGateway | JSONResponse:
    """The gateway wired at start-up; 404 when WeChat is not configured, 503 when misconfigured."""
    talk = request.app.state.services.talk
    gateway: WeChatGateway | None = talk.wechat if talk is not None else None
    if gateway is not None:
        return gateway
    if not request.app.state.services.settings.wechat_token:
        return JSONResponse({"error": "the WeChat channel is not configured"}, 404)
    return JSONResponse({"error": "the WeChat channel is misconfigured"}, 503)  # logged at start-up


def _refuse(exc: Rejected) -> JSONResponse:
    return JSONResponse({"error": exc.reason}, exc.status)


@router.get("/wechat", include_in_schema=False)
async def wechat_handshake(request: Request, signature: str = "", timestamp: str = "", nonce: str = "",
                           echostr: str = "") -> Response:
    """WeChat's server verification: echo `echostr` when the signature holds."""
    gateway = _gateway(request)
    if isinstance(gateway, JSONResponse):
        return gateway
    try:
        return PlainTextResponse(gateway.protocol.handshake(signature, timestamp, nonce, echostr))
    except Rejected as exc:
        return _refuse(exc)


@router.post("/wechat", include_in_schema=False)
async def wechat_message(request: Request) -> Response:
    """A message or event pushed by WeChat; the reply is passive XML or `success`."""
    started = time.monotonic()
    gateway = _gateway(request)
    if isinstance(gateway, JSONResponse):
        return gateway
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_XML:
            return JSONResponse({"error": f"message too large (limit {MAX_XML} bytes)"}, 413)
    try:
        msg, envelope = gateway.protocol.open(request.query_params, bytes(body))
    except Rejected as exc:
        return _refuse(exc)
    text = await gateway.respond(msg, started)
    content, media_type = gateway.protocol.reply(msg, text, envelope)
    return Response(content, media_type=media_type)
