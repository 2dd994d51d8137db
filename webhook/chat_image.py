"""POST /api/chat/image: a picture sent on the web chat (multipart upload, or JSON with base64).

The same answer as POST /api/chat, and the same per-user and per-address limits (429). The engine decides what
a picture is: sealed evidence inside a tip or a receipt check, read for its text (OCR) elsewhere. Limits: 5 MB
of image (413), JPEG / PNG / WebP / BMP / GIF judged from the bytes (415), a readable picture (400),
30 pictures an hour per network address (429).
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from bot.bootstrap import Services
from bot.channels.web import image_inbound, to_response
from bot.media.images import ImageRejected, check_image
from bot.store.ratelimit import admit
from webhook.chat import ChatResponse, chat_limits

IMAGE_PATH = "/api/chat/image"
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_UPLOAD_BODY = MAX_UPLOAD_BYTES * 4 // 3 + 64 * 1024   # base64 in JSON, or multipart framing
PER_HOUR = 30
_USER = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
router = APIRouter()


@router.post(IMAGE_PATH, response_model=ChatResponse, responses={
    400: {"description": "not a readable picture or malformed body"}, 413: {"description": "over 5 MB"},
    415: {"description": "not an image"}, 422: {"description": "user or image missing"},
    429: {"description": "too many pictures from this address"}})
async def chat_image(request: Request) -> dict[str, Any] | Response:
    """Send a picture (multipart fields `user` and `image`, or JSON `{"user", "image": base64}`)."""
    user, data = await _read(request)
    if not _USER.match(user):
        raise HTTPException(422, "user: an opaque id, 1-64 chars of [A-Za-z0-9_-]")
    try:
        check_image(data, MAX_UPLOAD_BYTES)
    except ImageRejected as exc:
        raise HTTPException(exc.status, exc.reason) from exc
    services = request.app.state.services
    address = request.client.host if request.client else None
    refused = await chat_limits(request).check(user, address)
    if refused is not None:
        return refused
    if address:
        _limit(services, address)
    turn = await services.turns.handle(image_inbound(user, data, address))  # OCR in a turn thread
    return to_response(turn)


async def _read(request: Request) -> tuple[str, bytes]:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind in ("multipart/form-data", "application/x-www-form-urlencoded"):  # a form without a file: 422
        try:
            form = await request.form(max_files=1, max_fields=4)
        except Exception as exc:  # malformed multipart, too many parts
            raise HTTPException(400, "malformed multipart body") from exc
        upload, user = form.get("image"), form.get("user")
        if not isinstance(upload, UploadFile):
            raise HTTPException(422, "image: a file field named image is required")
        return (user if isinstance(user, str) else ""), await upload.read()
    if kind == "application/json":
        try:
            body = await request.json()
        except ValueError as exc:
            raise HTTPException(400, "the body is not valid JSON") from exc
        if not isinstance(body, dict) or not isinstance(body.get("image"), str):
            raise HTTPException(422, "image: base64 text is required")
        try:
            data = base64.b64decode(body["image"].split(",")[-1], validate=True)  # a data: URL is accepted too
        except (binascii.Error, ValueError) as exc:
            raise HTTPException(400, "image: not valid base64") from exc
        user = body.get("user")
        return (user if isinstance(user, str) else ""), data
    raise HTTPException(415, "send multipart/form-data (fields user, image) or application/json")


def _limit(services: Services, address: str) -> None:
    key = services.hasher.digest("ip", address)
    with services.uow() as uow:
        if not admit(uow, "picture_ip", key, PER_HOUR, timedelta(hours=1)):
            raise HTTPException(429, "too many pictures from this address; try again in an hour")
