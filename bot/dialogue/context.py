"""What a handler sees of one turn, and small helpers to build a Turn."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from bot.dialogue.state import State
from bot.messages import Button, Inbound, Outbound, Turn
from bot.store.uow import UnitOfWork

CANCEL_WORDS = frozenset({"取消", "退出", "算了", "不要了", "不举报了", "结束", "/cancel", "cancel", "quit"})
# Stop the pushes, whatever flow is open (the whole message, normalised: lower case, half-width)
UNSUBSCRIBE_WORDS = frozenset({"退订", "td", "取消订阅", "stop", "/stop", "退订推送", "退订提醒", "不要再推送了"})


@dataclass
class Ctx:
    msg: Inbound
    text: str          # the message as typed, stripped
    norm: str          # normalised (simplified, half-width, lower-case)
    state: State
    uow: UnitOfWork    # the turn's unit of work; its session is opened only by a step that reads or writes in it
    key: str           # the conversation key (keyed hash of channel and user)
    after_commit: list[Callable[[], None]] = field(default_factory=list)  # side effects once saved

    @property
    def session(self) -> Session:
        return self.uow.session


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


_CANCEL = re.compile(  # 算了不举报了, 不想说了, 先不报了, 不弄了
    r"^(算了|那算了|不了|好了)?[,，\s]*(我|俺)?(还是|先|暂时|就)?(不想|不要|不用|不|别)(再)?(举报|报|说|填|弄|写|订|订阅)(了|啦)?"
    r"(吧|啦|了)?[.。!！~]*$"
)


def is_cancel(norm: str) -> bool:
    norm = norm.strip(" .。!！~")
    return norm in CANCEL_WORDS or _CANCEL.match(norm) is not None


_THANKS = re.compile(r"^(好的?|嗯|行)?[,，\s]*(谢谢|多谢|谢了|谢谢啊|谢谢你|感谢)(啊|了|你|您|呀)?[!！~。.]*$")


def is_thanks(norm: str) -> bool:
    """谢谢 / 好的谢谢 alone: thanks, no answer to anything asked."""
    return _THANKS.match(norm.strip()) is not None


def is_unsubscribe(norm: str) -> bool:
    return norm.strip(" .。!！") in UNSUBSCRIBE_WORDS
