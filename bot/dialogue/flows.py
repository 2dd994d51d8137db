"""The flows a conversation can be in, and what opens each: the one routing table of the engine and the channels.

    flow       topic          private  opened by topics / by words (before any NLU)     pictures inside
    tip        report_start   yes      report_start / 我要举报… (bot.dialogue.tipwords)   sealed evidence
    status     report_status  yes      report_status / a receipt code                    sealed evidence
    subscribe  subscribe      yes      subscribe                                         read for their text
    riskcheck  risk_check     no       risk_check                                        read for their text

A private flow never starts, nor moves on, outside a private chat (a tip, a receipt, one person's subscription).
"""

from __future__ import annotations

from collections.abc import Callable, Container
from dataclasses import dataclass

from bot.dialogue.tipwords import opens_tip
from bot.tips.receipts import canonical_receipt

IN_GROUP = "为了保护您，这件事请私聊我办理，群里说的内容我不会记录。"
IN_GROUP_TIP = "为了保护您，举报只能在私聊里进行。请直接私信我，再说“我要举报”。"
OPEN_IN_GROUP = "这件事请私聊我办理，群里说的内容我不会记录。"  # a private flow already open, written to in a group


@dataclass(frozen=True)
class FlowSpec:
    name: str                    # the flow's key in the engine (and in Conversation.flow)
    topic: str                   # the topic its turns carry
    private: bool                # only in a private chat
    topics: frozenset[str]       # topics (NLU intents, buttons) that open it
    words: Callable[[str], bool] | None = None  # a normalised message that opens it before any NLU
    images: bool = False         # a picture sent inside belongs to the flow (sealed), not read for its text
    in_group: str = IN_GROUP     # said instead of starting it outside a private chat


def _has_receipt(norm: str) -> bool:
    return canonical_receipt(norm) is not None


FLOWS: tuple[FlowSpec, ...] = (  # in the order their words are tried
    FlowSpec("status", "report_status", True, frozenset({"report_status"}), _has_receipt, images=True),
    FlowSpec("tip", "report_start", True, frozenset({"report_start"}), opens_tip, images=True,
             in_group=IN_GROUP_TIP),
    FlowSpec("subscribe", "subscribe", True, frozenset({"subscribe"})),
    FlowSpec("riskcheck", "risk_check", False, frozenset({"risk_check"})),
)
BY_NAME = {f.name: f for f in FLOWS}
BY_TOPIC = {t: f for f in FLOWS for t in f.topics}
# topics whose answers concern one person (their tip, receipt or subscription): said only in a private chat
PRIVATE_TOPICS = frozenset({f.topic for f in FLOWS if f.private} | {t for f in FLOWS if f.private for t in f.topics}
                           | {"unsubscribe"})


def spec(name: str | None) -> FlowSpec | None:
    """The flow of this name (a conversation's open flow), or None."""
    return BY_NAME.get(name or "")


def by_topic(topic: str) -> FlowSpec | None:
    """The flow this topic opens, or None."""
    return BY_TOPIC.get(topic)


def opened_by_words(norm: str, among: Container[str] | None = None) -> FlowSpec | None:
    """The flow (of those `among`, when given) a message opens by its words alone (a receipt code, 我要举报)."""
    return next((f for f in FLOWS if f.words is not None and (among is None or f.name in among) and f.words(norm)),
                None)


def is_private(name: str | None) -> bool:
    flow = spec(name)
    return flow is not None and flow.private


def keeps_images(name: str | None) -> bool:
    """A picture sent in this flow is its own (sealed evidence), never read for its text."""
    flow = spec(name)
    return flow is not None and flow.images
