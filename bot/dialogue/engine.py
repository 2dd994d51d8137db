"""The conversation engine: parse → route → handler. Knows no web framework and no chat SDK.

Which flow a message opens or belongs to, and what is private, comes from one table: bot.dialogue.flows.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import lru_cache
from typing import Any, Protocol

from bot import metrics
from bot.dialogue.answers import Answers
from bot.dialogue.context import Ctx, is_unsubscribe, turn
from bot.dialogue.flowrun import FlowRunner
from bot.dialogue.flows import OPEN_IN_GROUP, FlowSpec, keeps_images, opened_by_words, spec
from bot.dialogue.riskflow import RiskCheckHandler
from bot.dialogue.state import State, StateRepository
from bot.dialogue.subscribe import SubscribeFlow
from bot.dialogue.tipwords import asks_about_reporting
from bot.dialogue.turns import KeyedLocks
from bot.dialogue.verdict import VerdictHandler
from bot.knowledge import KnowledgeBase, is_more
from bot.messages import PUSH_CHANNELS, Inbound, Outbound, Turn
from bot.offices import OfficeDirectory
from bot.store.subscribers import SubscriberRepository
from bot.store.uow import UnitOfWork
from bot.textnorm import normalise
from nlu.base import NLUParser

log = logging.getLogger(__name__)
EXPIRED = "您上次没填完的举报，放了太久没动，为了安全已经删除了。想举报的话可以重新开始。"
MAX_TEXT = 2000
# intents after which a message is not a case to judge (a receipt query, a subscription)
_UNSURE = 0.5  # below this an out_of_scope parse of a short message right after a case yields to that case
_NO_VERDICT = frozenset({"report_status", "subscribe", "unsubscribe", "greet", "thanks_bye"})


class Flow(Protocol):
    def start(self, ctx: Ctx, confidence: float = 1.0) -> Turn: ...
    def step(self, ctx: Ctx) -> Turn | None: ...


class Pictures(Protocol):  # bot.media.pictures.PictureReader: reads a picture, routes its text as a forward
    def respond(self, image: bytes, as_forward: Callable[[str], Turn]) -> Turn: ...


class Links(Protocol):  # bot.media.links.LinkReader: a Turn for a message about a link, else None
    def respond(self, text: str, as_forward: Callable[[str], Turn]) -> Turn | None: ...


class Engine:
    def __init__(
        self,
        *,
        nlu: NLUParser,
        knowledge: KnowledgeBase,
        uow_factory: Callable[[], UnitOfWork],
        keyer: Callable[[str, str], str],
        states: StateRepository,
        subscribe: SubscribeFlow,
        riskcheck: RiskCheckHandler,
        verdict: VerdictHandler | None = None,
        offices: OfficeDirectory | None = None,
        flows: dict[str, Flow] | None = None,
        threshold: float = 0.32,
        push_channels: frozenset[str] = frozenset(PUSH_CHANNELS),
        pictures: Pictures | None = None,
        links: Links | None = None,
    ) -> None:
        self.nlu = nlu
        self.kb = knowledge
        self._uow = uow_factory
        self._keyer = keyer
        self._states = states
        self._risk = riskcheck
        self._verdict = verdict
        self._answers = Answers(knowledge, offices)
        self._flows: dict[str, Any] = {"subscribe": subscribe, "riskcheck": riskcheck, **(flows or {})}
        self._threshold = threshold
        self._push_channels = push_channels  # where a subscriber's last interaction matters (pushes)
        self._locks = KeyedLocks()  # one turn at a time per conversation (in this process)
        self._effects = ThreadPoolExecutor(max_workers=2, thread_name_prefix="after-commit")
        self.pictures = pictures  # None: pictures outside a tip are not read (no OCR configured)
        self.links = links        # None: URLs are text like any other
        self._buttons = knowledge.button_map()
        for tid, t in knowledge.topics.items():
            self._buttons.setdefault(t.title, tid)
        self._run = FlowRunner(self._flows, self._answers, self._buttons)
        # which flow a message's words open depends on the words alone: asked once per text
        self._opened_by: Callable[[str], FlowSpec | None] = lru_cache(maxsize=2048)(
            lambda norm: opened_by_words(norm, among=self._flows))

    def conversation_key(self, msg: Inbound) -> str:
        return self._keyer("chat", f"{msg.channel}:{msg.user}")

    def open_flow(self, msg: Inbound) -> str | None:
        """The flow this person's conversation is in (for a channel's commands), or None."""
        with self._uow() as uow:
            return self._states.flow_of(uow.session, self.conversation_key(msg))

    def unsubscribe(self, msg: Inbound) -> None:
        """Stop every push to this person at once (a channel's own event: they unfollowed the account)."""
        with self._uow() as uow:
            SubscriberRepository(uow.session).unsubscribe(self.conversation_key(msg))
            uow.commit()

    def handle(self, msg: Inbound) -> Turn:
        """One turn, synchronous (database, NLU, Argon2, OCR): async callers run it in a thread (TurnRunner)."""
        started = time.perf_counter()
        key = self.conversation_key(msg)
        with self._locks.hold(key):
            result, state, effects = self._turn(msg, key)
        for effect in effects:  # e.g. telling an office a tip arrived; never delays the reply
            self._effects.submit(_logged, effect)
        metrics.observe_turn(msg.channel, result.topic, time.perf_counter() - started)
        log.info("turn", extra={"channel": msg.channel, "topic": result.topic, "intent": result.intent,
                                "confidence": round(result.confidence, 3), "flow": state.flow})
        return result

    def _turn(self, msg: Inbound, key: str) -> tuple[Turn, State, list[Callable[[], None]]]:
        text = msg.text.strip()[:MAX_TEXT]
        with self._uow() as uow:
            state = self._states.load(uow, key)
            if uow.begun:
                uow.commit()  # end the read: no connection is held while the NLU works
            ctx = Ctx(msg, text, normalise(text), state, uow, key)
            result = self._route(ctx)
            if msg.channel in self._push_channels:  # the web and the terminal have no push: no query
                SubscriberRepository(uow.session).touch(key)
            if "basis" not in result.extra and result.topic in self.kb.topics:  # the legal basis, in the API too
                result = replace(result, extra={**result.extra, "basis": self.kb.basis(result.topic)})
            if state.expired:  # the half-written tip was erased: say so before anything else
                result = replace(result, replies=(Outbound(EXPIRED, ()), *result.replies))
            self._states.save(uow, key, state)
            if uow.begun:  # the turn wrote in the session (a tip, a subscription): with its state
                uow.commit()
        return result, state, ctx.after_commit

    def _route(self, ctx: Ctx) -> Turn:
        flow = spec(ctx.state.flow)
        if flow is not None and flow.private and not ctx.msg.private:
            # a tip or a receipt never moves on in a group: nothing typed there is taken or repeated
            return turn(OPEN_IN_GROUP, flow.topic)
        if is_unsubscribe(ctx.norm) and not ctx.msg.forwarded:  # 退订 / TD / stop, typed: at once, in every state
            return self._run.unsubscribe(ctx)
        if ctx.msg.kind == "image" and ctx.msg.media and self.pictures and not keeps_images(ctx.state.flow):
            return self._read_picture(ctx)  # in a tip or a receipt a picture stays sealed evidence
        stepped = self._run.step(ctx)
        return stepped if stepped is not None else self._new_message(ctx)

    def _new_message(self, ctx: Ctx) -> Turn:
        if not ctx.text and ctx.msg.kind != "image":
            return self._answers.answer(ctx, "bot_identity", None)
        if ctx.msg.kind == "image":
            return turn("收到图片，但这次没能看图片上的字。想让我看看宣传内容，请把文字打出来发给我；"
                        "想举报请回复“我要举报”。", "bot_identity",
                        buttons=["我要举报", "帮我看看靠不靠谱"])
        flow = self._opened_by(ctx.norm)
        if flow is not None and (ctx.text not in self._buttons or self._buttons[ctx.text] in flow.topics):
            return self._run.start_now(flow, ctx)
        if ctx.text in self._buttons:
            return self._run.dispatch(ctx, self._buttons[ctx.text], None)
        about = self._about_the_case(ctx)
        if isinstance(about, Turn):
            return about
        ctx = about
        if self.links is not None:  # never reached inside a tip or a receipt: a link there is not opened
            linked = self.links.respond(ctx.text, lambda text: self._as_forward(ctx, text))
            if linked is not None:
                return linked
        if ctx.msg.forwarded or self._risk.is_pitch(ctx.text):
            return self._risk.check(ctx, ctx.text)
        return self._by_nlu(ctx)

    def _about_the_case(self, ctx: Ctx) -> Turn | Ctx:
        """更多, a follow-up or a correction of what they told before: its Turn; else the message to route on
        (a correction's words in place of the message)."""
        state = ctx.state
        if is_more(ctx.norm) and state.data.get("last_topic"):
            more_case = self._verdict.more(ctx) if self._verdict is not None else None
            if more_case is not None:
                return more_case
            more = self.kb.more(state.data["last_topic"])
            if more is not None:
                return Turn((more,), state.data["last_topic"], state.data["last_topic"], 1.0)
        if self._verdict is None:
            return ctx
        follow = self._verdict.follow_up(ctx)
        if follow is not None:
            return follow
        about = self._verdict.correction(ctx.norm)
        if about is None:
            return ctx
        ctx = Ctx(ctx.msg, about, about, state, ctx.uow, ctx.key, ctx.after_commit)  # 不是，我是说养老院那个
        hinted = self._verdict.hints.topic(about)
        if hinted is not None and self._verdict.assess(about) is None:
            return self._run.dispatch(ctx, hinted, None)
        return ctx

    def _by_nlu(self, ctx: Ctx) -> Turn:
        parse = self.nlu.parse(ctx.text)
        metrics.observe_parse(parse.backend)
        if self._verdict is not None and parse.intent not in _NO_VERDICT:
            report = self._verdict.assess(ctx.text)
            if report is not None:  # they told what they were promised: the verdict is the answer
                topic = parse.intent if parse.confidence >= self._threshold else None
                return self._verdict.verdict(ctx, report, topic, parse.confidence)
        topic = parse.intent
        if parse.confidence < self._threshold or topic == "out_of_scope":
            hinted = self._verdict.hints.topic(ctx.norm) if self._verdict is not None else None
            if hinted is None and asks_about_reporting(ctx.norm):  # 咋报警，在哪报
                hinted = "report_how"
            if hinted is None and self._verdict is not None and topic == "out_of_scope" and parse.confidence < _UNSURE:
                # 超过多少不保, right after a case: a doubtful "not ours" is a question about that case
                follow = self._verdict.unsure_follow_up(ctx)
                if follow is not None:
                    return follow
            if hinted is not None:  # 敬老院, 基金定投 …: a word that names the topic answers better than a question
                topic = hinted
            elif topic != "out_of_scope":
                return self._answers.clarify(parse)
        result = self._run.dispatch(ctx, topic, parse)
        if not result.red_flags:  # 那啥叫非法集资 after a verdict: "更多" is now about this answer
            ctx.state.data.pop("more", None)
        if self._verdict is not None and ctx.state.flow is None:
            self._verdict.remember(ctx, result.topic)
        return result

    # -- pictures and links (bot.media): their text goes the way of a forwarded text message ----------
    def _read_picture(self, ctx: Ctx) -> Turn:
        assert self.pictures is not None and ctx.msg.media is not None
        return self.pictures.respond(ctx.msg.media, lambda text: self._as_forward(ctx, text))

    def _as_forward(self, ctx: Ctx, text: str) -> Turn:
        ctx.state.leave()
        msg = replace(ctx.msg, kind="text", text=text[:MAX_TEXT], media=None, forwarded=True)
        return self._route(Ctx(msg, msg.text, normalise(msg.text), ctx.state, ctx.uow, ctx.key,
                                     ctx.after_commit))


def _logged(effect: Callable[[], None]) -> None:
    try:
        effect()
    except Exception as exc:  # the turn is saved; only this side effect is lost
        log.warning("after-commit effect failed", extra={"error_type": type(exc).__name__})
