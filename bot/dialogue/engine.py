"""The conversation engine: parse → route → handler. Knows no web framework and no chat SDK."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, Protocol, TypeVar

from bot import metrics
from bot.dialogue.context import Ctx, is_cancel, is_unsubscribe, turn
from bot.dialogue.pause import TipPause
from bot.dialogue.riskflow import RiskCheckHandler
from bot.dialogue.state import StateRepository
from bot.dialogue.subscribe import SubscribeFlow
from bot.dialogue.verdict import VerdictHandler
from bot.knowledge import MORE_WORDS, KnowledgeBase
from bot.messages import PUSH_CHANNELS, Button, Inbound, Outbound, Turn
from bot.store.subscribers import SubscriberRepository
from bot.store.uow import UnitOfWork
from bot.textnorm import normalise
from nlu.base import NLUParser, Parse

log = logging.getLogger(__name__)
T = TypeVar("T")
EXPIRED = "您上次没填完的举报，放了太久没动，为了安全已经删除了。想举报的话可以重新开始。"
MAX_TEXT = 2000
PRIVATE_FLOWS = frozenset({"tip", "status"})
TIP_REQUEST = re.compile(r"^(我|俺|咱)?(要|想|想要|需要)(实名|匿名)?(举报|检举|揭发|告发|反映)")
# 举报他们 / 举报石泉县鑫盛合作社…: a bare 举报 opens a tip too, unless it asks about reporting (举报有奖励吗)
TIP_BARE = re.compile(
    r"^(我|俺|咱)?(实名|匿名)?(举报|检举|揭发|告发)(?!电话|热线|方式|方法|渠道|途径|流程|程序|步骤|须知|指南|奖|有|会|能|可以|要|需要|怎么|咋|的|了|过)"
)
_ASKS = re.compile(
    r"[?？]|吗|么|嘛|怎么|咋|如何|什么|啥|多少|哪|能不能|可不可以|有没有|会不会|是不是|[不没]$|奖励|奖金|泄露|保密|身份|电话"
)
# 能帮我举报不 / 帮我举报一下: asking the bot to take the tip
TIP_HELP = re.compile(
    r"^(你)?(能|可以|可不可以|能不能)?(帮我|帮忙|替我|给我|帮俺|替俺)(去)?(举报|反映|检举)(一下|他们|这家|这个)?"
    r"(吗|不|呗|吧|啊)?[?？!！。.]*$"
)


class Step(Protocol):  # a flow the person is in takes their next message (None: that was no answer)
    def step(self, ctx: Ctx) -> Turn | None: ...


class Flow(Step, Protocol):
    def start(self, ctx: Ctx, confidence: float = 1.0) -> Turn: ...


class Tips(Flow, Protocol):  # bot.tips.flow.TipFlow
    def keeps(self, ctx: Ctx) -> bool: ...
    def resume(self, ctx: Ctx) -> Turn: ...
    def after_unsubscribe(self, ctx: Ctx, topic: str) -> Turn: ...


class Receipts(Flow, Protocol):  # bot.tips.status.StatusFlow
    def has_code(self, text: str) -> bool: ...


class Pictures(Protocol):  # bot.media.pictures.PictureReader: reads a picture, routes its text as a forward
    async def respond(self, image: bytes, as_forward: Callable[[str], Awaitable[Turn]]) -> Turn: ...


class Links(Protocol):  # bot.media.links.LinkReader: a Turn for a message about a link, else None
    async def respond(self, text: str, as_forward: Callable[[str], Awaitable[Turn]]) -> Turn | None: ...


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
        offices: Any = None,
        tip: Tips | None = None,
        status: Receipts | None = None,
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
        self._offices = offices  # the directory: a county's office named in a question about reporting
        self._tip, self._status = tip, status
        self._starts: dict[str, Flow] = {"subscribe": subscribe, **({"tip": tip} if tip else {}),
                                         **({"status": status} if status else {})}
        self._flows: dict[str, Step] = {"riskcheck": riskcheck, **self._starts}
        self._threshold = threshold
        self._push_channels = push_channels  # where a subscriber's last interaction matters (pushes)
        self._background: set[asyncio.Task[None]] = set()
        self.pictures = pictures  # None: pictures outside a tip are not read (no OCR configured)
        self.links = links        # None: URLs are text like any other
        self._buttons = knowledge.button_map()
        for tid, t in knowledge.topics.items():
            self._buttons.setdefault(t.title, tid)
        self._pause = TipPause(self._buttons, self._answer_pending, self._resume_tip)

    def conversation_key(self, msg: Inbound) -> str:
        return self._keyer("chat", f"{msg.channel}:{msg.user}")

    async def handle(self, msg: Inbound) -> Turn:
        started = time.perf_counter()
        text = msg.text.strip()[:MAX_TEXT]
        key = self.conversation_key(msg)
        with self._uow() as uow:
            state = self._states.load(uow.session, key)
            uow.commit()  # end the read: no connection is held while the NLU works
            ctx = Ctx(msg, text, normalise(text), state, uow.session, key)
            result = await self._route(ctx)
            if msg.channel in self._push_channels:  # the web and the terminal have no push: no query
                SubscriberRepository(uow.session).touch(key)
            if "basis" not in result.extra and result.topic in self.kb.topics:  # the legal basis, in the API too
                result = replace(result, extra={**result.extra, "basis": self.kb.basis(result.topic)})
            if state.expired:  # the half-written tip was erased: say so before anything else
                result = replace(result, replies=(Outbound(EXPIRED, ()), *result.replies))
            self._states.save(uow.session, key, state)
            uow.commit()
        for effect in ctx.after_commit:  # e.g. telling an office a tip arrived; never delays the reply
            task = asyncio.create_task(asyncio.to_thread(effect))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        metrics.observe_turn(msg.channel, result.topic, time.perf_counter() - started)
        log.info("turn", extra={"channel": msg.channel, "topic": result.topic, "intent": result.intent,
                                "confidence": round(result.confidence, 3), "flow": state.flow})
        return result

    async def _route(self, ctx: Ctx) -> Turn:
        state = ctx.state
        if state.flow in PRIVATE_FLOWS and not ctx.msg.private:
            # a tip or a receipt never moves on in a group: nothing typed there is taken or repeated
            return turn("这件事请私聊我办理，群里说的内容我不会记录。", _FLOW_TOPIC[state.flow])
        if is_unsubscribe(ctx.norm) and not ctx.msg.forwarded:  # 退订 / TD / stop, typed: at once, in every state
            return self._unsubscribe(ctx)
        if ctx.msg.kind == "image" and ctx.msg.media and self.pictures and state.flow not in PRIVATE_FLOWS:
            return await self._read_picture(ctx)  # in a tip or a receipt a picture stays sealed evidence
        if state.flow == "tip" and self._tip is not None:
            paused = self._pause.intercept(ctx)
            if paused is not None:
                return paused
        if state.flow in self._flows:
            # 不想说 at the contact step is an answer
            if is_cancel(ctx.norm) and not (state.flow == "tip" and self._tip is not None and self._tip.keeps(ctx)):
                return self._cancel(ctx)
            step = self._flows[state.flow].step
            # tips and receipts hash (Argon2) and seal: off the event loop
            handled = await self._off_loop(step, ctx) if state.flow in PRIVATE_FLOWS else step(ctx)
            if handled is not None:
                return handled
            state.leave()  # not an answer to the flow: treat it as a new message
        if not ctx.text and ctx.msg.kind != "image":
            return self._answer(ctx, "bot_identity", None)
        if ctx.msg.kind == "image":
            return turn("收到图片，但这次没能看图片上的字。想让我看看宣传内容，请把文字打出来发给我；"
                        "想举报请回复“我要举报”。", "bot_identity",
                        buttons=["我要举报", "帮我看看靠不靠谱"])
        if self._status is not None and self._status.has_code(ctx.text):
            return await self._off_loop(self._status.start, ctx)  # never to the NLU; hashed off the event loop
        if self._tip is not None and self._is_tip_request(ctx):
            return self._tip.start(ctx)  # nor does the first message of a tip
        if ctx.text in self._buttons:
            return self._dispatch(ctx, self._buttons[ctx.text], None)
        if ctx.norm.strip(" .。!！~") in MORE_WORDS and state.data.get("last_topic"):
            more_case = self._verdict.more(ctx) if self._verdict is not None else None
            if more_case is not None:
                return more_case
            more = self.kb.more(state.data["last_topic"])
            if more is not None:
                return Turn((more,), state.data["last_topic"], state.data["last_topic"], 1.0)
        if self._verdict is not None:
            follow = self._verdict.follow_up(ctx)
            if follow is not None:
                return follow
            about = self._verdict.correction(ctx.norm)
            if about is not None:  # 不是，我是说养老院那个: answer what they meant
                ctx = Ctx(ctx.msg, about, about, state, ctx.session, ctx.key, ctx.after_commit)
                hinted = self._verdict.hints.topic(about)
                if hinted is not None and self._verdict.assess(about) is None:
                    return self._dispatch(ctx, hinted, None)
        if self.links is not None:  # never reached inside a tip or a receipt: a link there is not opened
            linked = await self.links.respond(ctx.text, lambda text: self._as_forward(ctx, text))
            if linked is not None:
                return linked
        if ctx.msg.forwarded or self._risk.is_pitch(ctx.text):
            return self._risk.check(ctx, ctx.text)
        parse = await self.nlu.parse(ctx.text)
        metrics.observe_parse(parse.backend)
        if self._verdict is not None and parse.intent not in _NO_VERDICT:
            report = self._verdict.assess(ctx.text)
            if report is not None:  # they told what they were promised: the verdict is the answer
                topic = parse.intent if parse.confidence >= self._threshold else None
                return self._verdict.verdict(ctx, report, topic, parse.confidence)
        topic = parse.intent
        if parse.confidence < self._threshold or topic == "out_of_scope":
            hinted = self._verdict.hints.topic(ctx.norm) if self._verdict is not None else None
            if hinted is not None:  # 敬老院, 基金定投 …: a word that names the topic answers better than a question
                topic = hinted
            elif topic != "out_of_scope":
                return self._clarify(ctx, parse)
        result = self._dispatch(ctx, topic, parse)
        if self._verdict is not None and state.flow is None:
            self._verdict.remember(ctx, result.topic)
        return result

    def _is_tip_request(self, ctx: Ctx) -> bool:
        if TIP_REQUEST.match(ctx.norm) or TIP_HELP.match(ctx.norm):
            return True
        return TIP_BARE.match(ctx.norm) is not None and not _ASKS.search(ctx.norm) and ctx.text not in self._buttons

    def _answer_pending(self, ctx: Ctx, topic: str) -> Turn:
        """A question asked in the middle of a tip: answered without leaving the tip (flows wait)."""
        if topic in self._flows or topic in ("risk_check", "report_status", "unsubscribe"):
            return turn("请先把举报填完，或者回复“取消”放弃，再办这件事。", _FLOW_TOPIC["tip"])
        return self._answer(ctx, topic, None)

    def _resume_tip(self, ctx: Ctx) -> Turn:
        assert self._tip is not None  # the pause only runs inside a tip
        return self._tip.resume(ctx)

    async def _off_loop(self, fn: Callable[[Ctx], T], ctx: Ctx) -> T:
        """Run a flow step in a worker thread and commit there: a write lock still held when the thread hands
        back would make the event loop wait on SQLite for a transaction only the event loop can end."""

        def run() -> T:
            result = fn(ctx)
            self._states.save(ctx.session, ctx.key, ctx.state)
            ctx.session.commit()
            return result

        return await asyncio.to_thread(run)

    # -- pictures and links (bot.media): their text goes the way of a forwarded text message ----------
    async def _read_picture(self, ctx: Ctx) -> Turn:
        assert self.pictures is not None and ctx.msg.media is not None
        return await self.pictures.respond(ctx.msg.media, lambda text: self._as_forward(ctx, text))

    async def _as_forward(self, ctx: Ctx, text: str) -> Turn:
        ctx.state.leave()
        msg = replace(ctx.msg, kind="text", text=text[:MAX_TEXT], media=None, forwarded=True)
        return await self._route(Ctx(msg, msg.text, normalise(msg.text), ctx.state, ctx.session, ctx.key,
                                     ctx.after_commit))

    def _dispatch(self, ctx: Ctx, topic: str, parse: Parse | None) -> Turn:
        confidence = parse.confidence if parse else 1.0
        if topic in self._starts:
            return self._starts[topic].start(ctx, confidence)
        if topic == "risk_check":
            return self._risk.begin(ctx, confidence)
        if topic == "unsubscribe":
            SubscriberRepository(ctx.session).unsubscribe(ctx.key)
        if topic == "report_start" and self._tip is not None:
            return self._tip.start(ctx, confidence)
        if topic == "report_status" and self._status is not None:
            return self._status.start(ctx, confidence)
        return self._answer(ctx, topic, parse)

    def _answer(self, ctx: Ctx, topic: str, parse: Parse | None) -> Turn:
        ctx.state.data["last_topic"] = topic
        out = self.kb.answer(topic)
        office = self._offices.resolve(ctx.text) if self._offices is not None and topic in _CONTACT_TOPICS else None
        if office is not None and not office.is_city:  # their county is named: its office, once, plainly
            c = office.contacts
            out = replace(out, text=f"{out.text}\n{office.area}：{office.name}，电话{c.phone}，{c.address}")
        return Turn((out,), topic, parse.intent if parse else topic, parse.confidence if parse else 1.0)

    def _clarify(self, ctx: Ctx, parse: Parse) -> Turn:
        candidates = [t for t, _ in parse.ranking if t != "out_of_scope"][:3]
        buttons = tuple(Button(self.kb.title(t)) for t in candidates)
        text = "我不太确定您想问的是哪一个，请点一下最接近的：\n（也可以换个说法再问我）"
        return Turn((Outbound(text, buttons),), parse.intent, parse.intent, parse.confidence)

    def _unsubscribe(self, ctx: Ctx) -> Turn:
        if ctx.state.flow == "tip" and self._tip is not None:
            SubscriberRepository(ctx.session).unsubscribe(ctx.key)
            return self._tip.after_unsubscribe(ctx, "unsubscribe")  # the tip stays open: asked, not dropped
        ctx.state.leave()
        return self._dispatch(ctx, "unsubscribe", None)

    def _cancel(self, ctx: Ctx) -> Turn:
        was = ctx.state.flow or ""
        ctx.state.leave()
        text = "好的，已取消。刚才填写的内容都已删除。" if was == "tip" else "好的，已取消。"
        return turn(text + "\n还有什么可以帮您？", _FLOW_TOPIC.get(was, "bot_identity"),
                    buttons=["什么是非法集资", "帮我看看靠不靠谱", "我要举报"])


# intents after which a message is not a case to judge (a receipt query, a subscription)
_NO_VERDICT = frozenset({"report_status", "subscribe", "unsubscribe", "greet", "thanks_bye"})
# topics after which the office of a county the person named is given (电话, address)
_CONTACT_TOPICS = frozenset({"report_how", "human_handoff", "victim_what_to_do", "report_reward", "case_disposal"})
_FLOW_TOPIC = {"tip": "report_start", "subscribe": "subscribe", "riskcheck": "risk_check",
               "status": "report_status"}
