"""What a handler sees of one turn, and small helpers to build a Turn."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from bot.dialogue.state import State
from bot.messages import Button, Inbound, Outbound, Turn

CANCEL_WORDS = frozenset({"取消", "退出", "算了", "不要了", "不举报了", "结束", "/cancel", "cancel", "quit"})
# Stop the pushes, whatever flow is open (the whole message, normalised: lower case, half-width)
UNSUBSCRIBE_WORDS = frozenset({"退订", "td", "取消订阅", "stop", "/stop", "退订推送", "退订提醒", "不要再推送了"})


@dataclass
class Ctx:
    msg: Inbound
    text: str          # the message as typed, stripped
    norm: str          # normalised (simplified, half-width, lower-case)
    state: State
    session: Session
    key: str           # the conversation key (keyed hash of channel and user)
    after_commit: list[Callable[[], None]] = field(default_factory=list)  # side effects once saved


def turn(
    text: str,
    topic: str,
    *,
    buttons: tuple[str, ...] | list[str] = (),
    intent: str | None = None,
    confidence: float = 1.0,
    expects: str | None = None,
    red_flags: tuple[str, ...] = (),
    receipt: str | None = None,
) -> Turn:
    return Turn(
        replies=(Outbound(text, tuple(Button(b) for b in buttons)),),
        topic=topic,
        intent=intent or topic,
        confidence=confidence,
        red_flags=red_flags,
        expects=expects,
        receipt=receipt,
    )


def is_cancel(norm: str) -> bool:
    return norm.strip(" .。!！") in CANCEL_WORDS


def is_unsubscribe(norm: str) -> bool:
    return norm.strip(" .。!！") in UNSUBSCRIBE_WORDS
