"""The conversation engine: parse → route → handler. Knows no web framework and no chat SDK."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, Protocol

from bot import metrics
from bot.dialogue.context import Ctx, is_cancel, is_unsubscribe, turn
from bot.dialogue.riskflow import RiskCheckHandler
from bot.dialogue.state import StateRepository
from bot.dialogue.subscribe import SubscribeFlow
from bot.knowledge import MORE_WORDS, KnowledgeBase
from bot.messages import PUSH_CHANNELS, Button, Inbound, Outbound, Turn
from bot.store.subscribers import SubscriberRepository
from bot.store.uow import UnitOfWork
from bot.textnorm import normalise
from nlu.base import NLUParser, Parse

log = logging.getLogger(__name__)
MAX_TEXT = 2000
PRIVATE_FLOWS = frozenset({"tip", "status"})
TIP_REQUEST = re.compile(r"^(我|俺|咱)?(要|想|想要|需要)(实名|匿名)?(举报|检举|揭发|告发|反映)")


class Flow(Protocol):
    def start(self, ctx: Ctx, confidence: float = 1.0) -> Turn: ...
    def step(self, ctx: Ctx) -> Turn | None: ...


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
        self._flows: dict[str, Any] = {"subscribe": subscribe, "riskcheck": riskcheck, **(flows or {})}
        self._threshold = threshold
        self._push_channels = push_channels  # where a subscriber's last interaction matters (pushes)
        self._background: set[asyncio.Task[None]] = set()
        self.pictures = pictures  # None: pictures outside a tip are not read (no OCR configured)
        self.links = links        # None: URLs are text like any other
        self._buttons = knowledge.button_map()
        for tid, t in knowledge.topics.items():
            self._buttons.setdefault(t.title, tid)

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
        if state.flow in self._flows:
            if is_cancel(ctx.norm):
                return self._cancel(ctx)
            handled = self._flows[state.flow].step(ctx)
            if handled is not None:
                return handled
            state.leave()  # not an answer to the flow: treat it as a new message
        if not ctx.text and ctx.msg.kind != "image":
            return self._answer(ctx, "bot_identity", None)
        if ctx.msg.kind == "image":
            return turn("收到图片，但这次没能看图片上的字。想让我看看宣传内容，请把文字打出来发给我；"
                        "想举报请回复“我要举报”。", "bot_identity",
                        buttons=["我要举报", "帮我看看靠不靠谱"])
        status = self._flows.get("status")
        if status is not None and status.has_code(ctx.text):
            return status.start(ctx)  # a receipt code never goes to the NLU
        if "tip" in self._flows and TIP_REQUEST.match(ctx.norm):
            return self._flows["tip"].start(ctx)  # nor does the first message of a tip
        if ctx.text in self._buttons:
            return self._dispatch(ctx, self._buttons[ctx.text], None)
        if ctx.norm in MORE_WORDS and state.data.get("last_topic"):
            more = self.kb.more(state.data["last_topic"])
            if more is not None:
                return Turn((more,), state.data["last_topic"], state.data["last_topic"], 1.0)
        if self.links is not None:  # never reached inside a tip or a receipt: a link there is not opened
            linked = await self.links.respond(ctx.text, lambda text: self._as_forward(ctx, text))
            if linked is not None:
                return linked
        if ctx.msg.forwarded or self._risk.is_pitch(ctx.text):
            return self._risk.check(ctx, ctx.text)
        parse = await self.nlu.parse(ctx.text)
        metrics.observe_parse(parse.backend)
        if parse.confidence < self._threshold and parse.intent != "out_of_scope":
            return self._clarify(ctx, parse)
        return self._dispatch(ctx, parse.intent, parse)

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
        if topic in self._flows and hasattr(self._flows[topic], "start"):
            return self._flows[topic].start(ctx, confidence)
        if topic == "risk_check":
            return self._risk.begin(ctx, confidence)
        if topic == "unsubscribe":
            SubscriberRepository(ctx.session).unsubscribe(ctx.key)
        if topic == "report_start" and "tip" in self._flows:
            return self._flows["tip"].start(ctx, confidence)
        if topic == "report_status" and "status" in self._flows:
            return self._flows["status"].start(ctx, confidence)
        return self._answer(ctx, topic, parse)

    def _answer(self, ctx: Ctx, topic: str, parse: Parse | None) -> Turn:
        ctx.state.data["last_topic"] = topic
        out = self.kb.answer(topic)
        return Turn((out,), topic, parse.intent if parse else topic, parse.confidence if parse else 1.0)

    def _clarify(self, ctx: Ctx, parse: Parse) -> Turn:
        candidates = [t for t, _ in parse.ranking if t != "out_of_scope"][:3]
        buttons = tuple(Button(self.kb.title(t)) for t in candidates)
        text = "我不太确定您想问的是哪一个，请点一下最接近的：\n（也可以换个说法再问我）"
        return Turn((Outbound(text, buttons),), parse.intent, parse.intent, parse.confidence)

    def _unsubscribe(self, ctx: Ctx) -> Turn:
        if ctx.state.flow == "tip" and hasattr(self._flows.get("tip"), "resume"):
            SubscriberRepository(ctx.session).unsubscribe(ctx.key)
            return self._flows["tip"].resume(ctx, "unsubscribe")  # the tip stays open: asked, not dropped
        ctx.state.leave()
        return self._dispatch(ctx, "unsubscribe", None)

    def _cancel(self, ctx: Ctx) -> Turn:
        was = ctx.state.flow or ""
        ctx.state.leave()
        text = "好的，已取消。刚才填写的内容都已删除。" if was == "tip" else "好的，已取消。"
        return turn(text + "\n还有什么可以帮您？", _FLOW_TOPIC.get(was, "bot_identity"),
                    buttons=["什么是非法集资", "帮我看看靠不靠谱", "我要举报"])


_FLOW_TOPIC = {"tip": "report_start", "subscribe": "subscribe", "riskcheck": "risk_check",
               "status": "report_status"}
