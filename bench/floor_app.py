"""The floor of bench/chat.py --floor: the same FastAPI + uvicorn stack answering POST /api/chat with a fixed
reply of the same size as the bot's, so the distance to /api/chat is what the bot itself costs per message.

    .venv/bin/python -m uvicorn bench.floor_app:create_app --factory   # FLOOR_REPLY_BYTES=<size>
"""

from __future__ import annotations

import json
import os

from fastapi import FastAPI
from fastapi.responses import Response
from pydantic import BaseModel, Field


class ChatIn(BaseModel):
    """The request as /api/chat reads it (the same checks on user and text)."""

    user: str = Field(min_length=1, max_length=128)
    text: str = Field(default="", max_length=2000)


def fixed_reply(size: int) -> bytes:
    """A reply shaped like the bot's, padded with Chinese text to `size` bytes of JSON."""
    reply = {"replies": [{"text": "", "buttons": ["更多", "我要举报"]}], "topic": "definition", "confidence": 1.0,
             "expects": None, "red_flags": [], "receipt": None, "basis": None}
    body = json.dumps(reply, ensure_ascii=False).encode()
    reply["replies"][0]["text"] = "非" * max(0, (size - len(body)) // 3)  # one CJK character is 3 bytes of UTF-8
    return json.dumps(reply, ensure_ascii=False).encode()


def create_app() -> FastAPI:
    body = fixed_reply(int(os.environ.get("FLOOR_REPLY_BYTES", "900")))
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.post("/api/chat")
    async def chat(message: ChatIn) -> Response:
        """A fixed answer: no NLU, no database, no state."""
        return Response(body, media_type="application/json")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        """Ready."""
        return {"status": "ok"}

    return app
