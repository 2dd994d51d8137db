"""The risk check in conversation: check a pasted or forwarded pitch, or ask for one.

    an ask with the text (帮我看看这个靠谱吗：…) ──► verdict   (before the NLU: is_pitch)
    a plain pitch, no question / a forward     ──► verdict   (before the NLU: is_pitch)
    risk_check asked without text ──► await ──(the pasted text)──► verdict
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Protocol

from bot.dialogue.context import Ctx, turn
from bot.dialogue.state import Checked
from bot.messages import Turn
from bot.textnorm import normalise

TOPIC = "risk_check"
_REQUEST = re.compile(
    r"(帮我|给我|替我|请|麻烦|你)?(帮忙)?(看看|看一下|看下|查查|查一下|查一查|鉴定|分析|瞅瞅|瞧瞧|判断)(一下)?"
    r"|(这个|这|那个)?(是不是|是否|是)?(靠谱|可靠|骗人|骗局|真的|正规|安全|非法集资)(吗|不|么|嘛|没有)?"
    r"|[\s:：,，。!！?？\"“”'‘’…~～]+"
)
_ASK = re.compile(  # a message that opens by asking for a check
    r"(请|麻烦你?|你)?(帮我|帮忙|给我|替我)?(看看|看一下|看下|查查|查一下|查一查|鉴定|分析|瞅瞅|瞧瞧|判断)"
    r"|(这个|这条|这段|这)?(是不是|是否)?(靠谱|可靠|可信|能信|骗人|骗局|真的|正规|安全|非法集资)(吗|不|么|嘛|没有)"
)
_ENDS_ASKING = re.compile(  # the sender's own question at the end: the NLU decides what they want
    r"([?？]|(吗|嘛|么|呢|不|没|没有|啊|呀|哈|hhh)[?？!！。.~～\s]*)$"
    r"|(靠谱|可信|能信|信得过|是真的|真的假的|合法|正规|骗人|骗局|套路|能投|能买|能入|能办|能充|能玩|能接|能碰|中不中|"
    r"行不行|咋回事|怎么回事|怎么办|咋办|咋整|有问题|什么意思|啥意思|是啥|怎么样|咋样|如何|怎么劝|哪些|几点)"
    r"[^,，。;；!！]{0,6}$"
)
_LAST_CLAUSE = re.compile(r"[^,，。;；!！?？\s]{1,24}[?？!！。~～\s]*$")
_ASKING_WORD = re.compile(  # 进不进, 有没有风险, 是怎么个骗法, 图啥, 靠不住吧
    r"(\w)(不|没)\1|(\w)还是不\3|有没有|有冇|什么|啥|咋|怎么|怎样|为什么|为何|谁|哪|多少|不住吧|吧$"
)
_INVITES = re.compile(  # a question the pitch puts to its reader: 你要不要来看看, 要不你也投点
    r"(你|您)们?也?(要不要|想不想|来不来|投不投|什么时候有空|有没有兴趣|心动)|要不(你|您)也|有兴趣吗|想了解吗|心动吗"
)
MIN_QUOTE = 10  # characters left once the ask is taken away: less is no text to check


class Flagged(Protocol):
    @property
    def topic(self) -> str: ...


class Report(Checked, Protocol):
    @property
    def flags(self) -> tuple[Flagged, ...]: ...


class Checker(Protocol):
    def analyse(self, text: str) -> Report: ...
    def looks_like_pitch(self, text: str) -> bool: ...


class RiskCheckHandler:
    def __init__(self, checker: Checker, render: Callable[[Report], str], titles: Callable[[str], str]) -> None:
        self._checker = checker
        self._render = render
        self._title = titles
        # a text's answer never changes: one judged before (a button, a common question) is not judged again
        self._pitches: Callable[[str], bool] = lru_cache(maxsize=2048)(self._is_pitch)

    def is_pitch(self, text: str) -> bool:
        """For the check, not the NLU: an ask that brings its text along, or plainly a pitch (a text that
        ends in the sender's own question goes to the NLU, which may still choose the check)."""
        return self._pitches(text)

    def _is_pitch(self, text: str) -> bool:
        norm = normalise(text)
        if _ASK.match(norm) and len(_REQUEST.sub("", norm)) >= MIN_QUOTE:
            return True
        last = _LAST_CLAUSE.search(norm)
        tail = last.group().rstrip("?？!！。~～ ") if last else ""
        asking = _ENDS_ASKING.search(norm) is not None or _ASKING_WORD.search(tail) is not None
        if asking and not _INVITES.search(tail):
            return False
        return self._checker.looks_like_pitch(text)

    def start(self, ctx: Ctx, confidence: float = 1.0) -> Turn:
        if len(_REQUEST.sub("", ctx.norm)) >= MIN_QUOTE:
            return self.check(ctx, ctx.text, confidence)
        ctx.state.enter("riskcheck", "await")
        return turn(
            "好的。请把对方发给您的宣传内容、广告或聊天记录直接粘贴过来（也可以转发给我），"
            "我帮您看看有没有非法集资的危险信号。", TOPIC, confidence=confidence)

    def step(self, ctx: Ctx) -> Turn | None:
        ctx.state.leave()
        return self.check(ctx, ctx.text)

    def check(self, ctx: Ctx, text: str, confidence: float = 1.0) -> Turn:
        report = self._checker.analyse(text)
        ctx.state.data["last_topic"] = TOPIC
        if report.flags:  # kept sealed: "更多" opens the whole check, "我要举报他们" offers the text pasted
            ctx.state.keep_checked(text, report, TOPIC, time.time(), pasted=True)
        learn: list[str] = []
        for flag in report.flags:
            if flag.topic not in learn and flag.topic != "red_flags":
                learn.append(flag.topic)
        buttons = ["我要举报", *[self._title(t) for t in learn[:2]]]
        if report.flags:
            buttons.insert(1, "更多")
        if len(buttons) < 3:
            buttons.append(self._title("red_flags"))
        return turn(self._render(report), TOPIC, buttons=buttons, confidence=confidence,
                    red_flags=tuple(report.flag_ids))
