"""A question asked in the middle of a tip: never taken as the answer to the slot being asked.

    (tip flow, any slot) a known button such as "什么是非法集资"
        ──► "要继续举报，还是先回答您的问题？"  [继续举报] [先回答问题]
              继续举报   ──► the slot is asked again
              先回答问题 ──► the answer, the draft kept; "继续举报" later goes on where it stopped

Only a tapped button (a label the bot itself offered) or one of a few short typed questions about the tip itself
(有奖励没, 会不会泄露我, 谢谢) counts as a question here: text typed inside a tip never goes to the NLU, so any
other typed question is taken as the answer, as the person can see in the summary.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.dialogue.context import Ctx, is_thanks, turn
from bot.messages import Button, Outbound, Turn

ASK = "要继续举报，还是先回答您的问题？\n（先回答也没关系，您填的内容会留着。）"
GO_ON = frozenset({"继续举报", "继续", "接着填", "接着举报"})
ANSWER_FIRST = frozenset({"先回答问题", "先回答", "回答问题", "先回答我的问题"})
PENDING = "f_pending"  # f_: erased with the flow
# short questions about the tip itself, read here (never by the NLU): answered, the draft kept, the slot asked again
_SIDE = (  # each asks: a bare 匿名 (the contact step's answer) or 奖励 is no question
    (re.compile(r"^(那|请问)?(举报)?((有|有没有|给不给|能拿|可以拿|能不能拿|能领)(奖励|奖金|奖)(吗|没|不|没有|呢|么|啊)?"
                r"|(奖励|奖金)(吗|没|不|没有|呢|么))[?？]*$"), "report_reward"),
    (re.compile(r"^(那)?((会不会|能不能|可不可以|可以)(泄露|暴露|保密|匿名|被报复)(我)?(吗|不|没|么|呢)?"
                r"|(会|能)?(泄露|暴露|保密|匿名|被报复)(我)?(吗|么|呢|的吧))[?？]*$"), "report_confidential"),
)
TOPIC = "report_start"


class TipPause:
    def __init__(self, buttons: dict[str, str], answer: Callable[[Ctx, str], Turn],
                 resume: Callable[[Ctx], Turn]) -> None:
        self._buttons = buttons
        self._answer = answer
        self._resume = resume

    def intercept(self, ctx: Ctx) -> Turn | None:
        """Inside a tip: a tapped question, or the choice after it; None when the message is for the slot."""
        data = ctx.state.data
        word = ctx.norm.strip(" .。!！")
        if data.get(PENDING) and word in GO_ON:
            data.pop(PENDING, None)
            return self._resume(ctx)
        if data.get(PENDING) and word in ANSWER_FIRST:
            answered = self._answer(ctx, self._buttons[data.pop(PENDING)])
            tail = Outbound("举报还没提交。想接着填，回复“继续举报”；不想举报了，回复“取消”。", ())
            return Turn((*answered.replies, tail), answered.topic, answered.intent, answered.confidence)
        if word in GO_ON and ctx.state.flow == "tip":
            return self._resume(ctx)
        side = "thanks_bye" if is_thanks(word) else next((topic for rx, topic in _SIDE if rx.match(word)), None)
        if side is not None:  # 有奖励没 asked while the story waits: answered, the story kept
            answered = self._answer(ctx, side)
            tail = Outbound("举报还没提交，您填的内容都留着。想接着填，回复“继续举报”；不想举报了，回复“取消”。",
                            (Button("继续举报"), Button("取消")))
            return Turn((*answered.replies, tail), answered.topic, answered.intent, answered.confidence,
                        expects=ctx.state.step)
        topic = self._buttons.get(ctx.text)
        if topic is None or topic == TOPIC:
            return None
        data[PENDING] = ctx.text
        return turn(ASK, TOPIC, buttons=["继续举报", "先回答问题"], expects=ctx.state.step)
