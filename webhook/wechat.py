"""/wechat: the WeChat official account's callback. Verify, parse, call the engine, render."""

from __future__ import annotations

import logging
import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from bot.channels.wechat.gateway import WeChatGateway
from bot.channels.wechat.protocol import MAX_XML, Rejected

router = APIRouter()
log = logging.getLogger(__name__)


def _gateway(request: Request) -> WeChatGateway | JSONResponse:
    """The app's gateway, built on first use; 404 when WeChat is not configured."""
    built: WeChatGateway | None = getattr(request.app.state, "wechat", None)
    if built is not None:
        return built
    services = request.app.state.services
    if not services.settings.wechat_token:
        return JSONResponse({"error": "the WeChat channel is not configured"}, 404)
    try:
        gateway = WeChatGateway(services)
    except ValueError as exc:
        log.error("wechat misconfigured", extra={"error_type": type(exc).__name__})
        return JSONResponse({"error": "the WeChat channel is misconfigured"}, 503)
    request.app.state.wechat = gateway
    return gateway


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
