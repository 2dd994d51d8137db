"""The engine's flows at work: started, stepped, cancelled and left, as the table in bot.dialogue.flows says."""

from __future__ import annotations

from typing import Any

from bot.dialogue.answers import Answers
from bot.dialogue.context import Ctx, is_cancel, turn
from bot.dialogue.flows import BY_NAME, FlowSpec, by_topic, spec
from bot.dialogue.pause import TipPause
from bot.messages import Turn
from bot.store.subscribers import SubscriberRepository
from nlu.base import Parse


class FlowRunner:
    def __init__(self, handlers: dict[str, Any], answers: Answers, buttons: dict[str, str]) -> None:
        self.handlers = handlers  # flow name → its handler (start, step; the tip's resume, keeps …)
        self._answers = answers
        self._pause = TipPause(buttons, self._answer_pending, self._resume_tip)

    def start(self, flow: FlowSpec, ctx: Ctx, confidence: float = 1.0) -> Turn:
        if flow.private and not ctx.msg.private:  # a tip, a receipt, a subscription: never begun in a group
            return turn(flow.in_group, flow.topic, confidence=confidence)
        return self.handlers[flow.name].start(ctx, confidence)  # type: ignore[no-any-return]

    def start_now(self, flow: FlowSpec, ctx: Ctx) -> Turn:
        """A flow opened by the message's words alone (a receipt code, 我要举报…): never sent to the NLU."""
        return self.start(flow, ctx)

    def dispatch(self, ctx: Ctx, topic: str, parse: Parse | None) -> Turn:
        """The topic's flow started, or its answer (退订 stops the pushes first)."""
        flow = by_topic(topic)
        if flow is not None and flow.name in self.handlers:
            return self.start(flow, ctx, parse.confidence if parse else 1.0)
        if topic == "unsubscribe":
            SubscriberRepository(ctx.session).unsubscribe(ctx.key)
        return self._answers.answer(ctx, topic, parse)

    def step(self, ctx: Ctx) -> Turn | None:
        """The open flow's answer to the message; None (the flow left) when it is not an answer to it."""
        state = ctx.state
        if state.flow not in self.handlers:
            return None
        if state.flow == "tip":
            paused = self._pause.intercept(ctx)
            if paused is not None:
                return paused
        handler = self.handlers[state.flow]
        keeps = getattr(handler, "keeps", None)  # 不想说 at the contact step is an answer
        if is_cancel(ctx.norm) and not (keeps is not None and keeps(ctx)):
            return self.cancel(ctx)
        handled = handler.step(ctx)  # the whole turn runs in a turn thread: Argon2 and sealing included
        if handled is None:
            state.leave()  # not an answer to the flow: treat it as a new message
        return handled  # type: ignore[no-any-return]

    def unsubscribe(self, ctx: Ctx) -> Turn:
        """退订 typed: the pushes stop at once; an open tip stays open (asked, not dropped), any other flow is left."""
        if ctx.state.flow == "tip" and hasattr(self.handlers.get("tip"), "resume"):
            SubscriberRepository(ctx.session).unsubscribe(ctx.key)
            return self.handlers["tip"].after_unsubscribe(ctx, "unsubscribe")  # type: ignore[no-any-return]
        ctx.state.leave()
        return self.dispatch(ctx, "unsubscribe", None)

    def cancel(self, ctx: Ctx) -> Turn:
        was = spec(ctx.state.flow)
        ctx.state.leave()
        text = "好的，已取消。刚才填写的内容都已删除。" if was is not None and was.name == "tip" else "好的，已取消。"
        return turn(text + "\n还有什么可以帮您？", was.topic if was is not None else "bot_identity",
                    buttons=["什么是非法集资", "帮我看看靠不靠谱", "我要举报"])

    def _answer_pending(self, ctx: Ctx, topic: str) -> Turn:
        """A question asked in the middle of a tip: answered without leaving the tip (flows wait)."""
        if by_topic(topic) is not None or topic == "unsubscribe":
            return turn("请先把举报填完，或者回复“取消”放弃，再办这件事。", BY_NAME["tip"].topic)
        return self._answers.answer(ctx, topic, None)

    def _resume_tip(self, ctx: Ctx) -> Turn:
        return self.handlers["tip"].resume(ctx)  # type: ignore[no-any-return]
