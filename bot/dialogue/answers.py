"""A topic's answer (with the office of a county named in the question) and the question back when unsure."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.dialogue.context import Ctx
from bot.knowledge import KnowledgeBase
from bot.messages import Button, Outbound, Turn
from nlu.base import Parse

# topics after which the office of a county the person named is given (电话, address)
CONTACT_TOPICS = frozenset({"report_how", "human_handoff", "victim_what_to_do", "report_reward", "case_disposal"})


class Answers:
    def __init__(self, knowledge: KnowledgeBase, offices: Any = None) -> None:
        self.kb = knowledge
        self._offices = offices  # the directory: a county's office named in a question about reporting

    def answer(self, ctx: Ctx, topic: str, parse: Parse | None) -> Turn:
        ctx.state.data["last_topic"] = topic
        out = self.kb.answer(topic)
        office = self._offices.resolve(ctx.text) if self._offices is not None and topic in CONTACT_TOPICS else None
        if office is not None and not office.is_city:  # their county is named: its office, once, plainly
            c = office.contacts
            out = replace(out, text=f"{out.text}\n{office.area}：{office.name}，电话{c.phone}，{c.address}")
        return Turn((out,), topic, parse.intent if parse else topic, parse.confidence if parse else 1.0)

    def clarify(self, parse: Parse) -> Turn:
        candidates = [t for t, _ in parse.ranking if t != "out_of_scope"][:3]
        buttons = tuple(Button(self.kb.title(t)) for t in candidates)
        text = "我不太确定您想问的是哪一个，请点一下最接近的：\n（也可以换个说法再问我）"
        return Turn((Outbound(text, buttons),), parse.intent, parse.intent, parse.confidence)
