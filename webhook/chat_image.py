"""POST /api/chat/image: a picture from the web page, handed to the engine as an image message.

The engine decides what it is: evidence inside a tip (sealed like any evidence) or an addition after a
receipt check; outside those it says what it can do with a picture. The page shrinks photos to a JPEG
under the body limit before sending; anything that is not a JPEG, PNG or WebP picture gets a clear 4xx.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse

from bot.messages import Inbound
from webhook.chat import ChatResponse, chat_limits, to_response

router = APIRouter()
MAX_IMAGE = 240 * 1024  # under the app's 256 KiB body limit, with room for the form around it
_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")


def is_picture(data: bytes) -> bool:
    return data.startswith(_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")


def _refuse(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message, "detail": message}, status)


@router.post("/api/chat/image", response_model=ChatResponse,
             responses={400: {"description": "no picture"}, 413: {"description": "too large"},
                        415: {"description": "not a JPEG, PNG or WebP picture"}, 429: {"description": "too fast"}})
async def chat_image(request: Request,
                     user: Annotated[str, Form(pattern=r"^[A-Za-z0-9_-]{1,64}$")],
                     image: Annotated[UploadFile, File(description="a JPEG, PNG or WebP picture")]) -> Any:
    """Send one picture to the bot (tip evidence) and get its replies."""
    data = await image.read(MAX_IMAGE + 1)
    if not data:
        return _refuse(400, "image: the file is empty")
    if len(data) > MAX_IMAGE:
        return _refuse(413, f"image: larger than {MAX_IMAGE // 1024} KiB")
    if not is_picture(data):
        return _refuse(415, "image: not a JPEG, PNG or WebP picture")
    address = request.client.host if request.client else None
    refused = await chat_limits(request).check(user, address)
    if refused is not None:
        return refused
    inbound = Inbound(channel="web", user=user, kind="image", media=data, address=address)
    return to_response(await request.app.state.services.engine.handle(inbound))
