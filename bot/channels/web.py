"""The web channel: JSON in, JSON out (shared/spec/chat-api.md)."""

from __future__ import annotations

from typing import Any

from bot.messages import Inbound, Turn


def to_inbound(user: str, text: str, address: str | None) -> Inbound:
    return Inbound(channel="web", user=user, text=text, address=address)


def to_response(turn: Turn) -> dict[str, Any]:
    return {
        "replies": [{"text": r.text, "buttons": [b.label for b in r.buttons]} for r in turn.replies],
        "topic": turn.topic,
        "intent": turn.intent,
        "confidence": round(float(turn.confidence), 4),
        "red_flags": list(turn.red_flags),
        "expects": turn.expects,
        "receipt": turn.receipt,
        "basis": turn.extra.get("basis"),  # the legal basis of the answer (its text is behind “更多”)
    }


def image_inbound(user: str, image: bytes, address: str | None) -> Inbound:
    """A picture uploaded on the chat page: evidence inside a tip, read for its text elsewhere."""
    return Inbound(channel="web", user=user, kind="image", media=image, address=address)
