"""A personal verdict: what a person tells of their own case, answered about *their* case.

    a message that describes a promise (投十万每年返一万二, 到期退本, 拉一个人奖励五百, 养老床位 …)
        ──► verdict on their case (the flags, each with the phrase that raised it) + the topic's advice
            the case is kept, sealed, for half an hour:
            "那怎么办"            ──► what to do now, for that case
            "我已经投了五万"        ──► what to do once money is in
            "更多"                ──► each flag's reason, the yield against a deposit, the legal basis
            "不是，我是说养老院那个"  ──► the correction is answered afresh
            "我要举报他们"          ──► the tip flow, offering their description (bot.tips.flow)

The words are the person's own: they stay in the sealed conversation state, never in logs.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any, Protocol

from bot.dialogue.context import Ctx
from bot.dialogue.followwords import (
    ASKS,
    BLOCKED,
    CLAIM_BACK,
    CLASSIFY,
    CORRECTION,
    INVESTED,
    LEGALITY,
    NOTES,
    OTHER_PRODUCT,
    PAID_OUT,
    REASSURE,
    RELIEF,
    THANKS,
    VERIFY_ASK,
    WHAT_NOW,
)
from bot.dialogue.hints import TopicHints
from bot.dialogue.replies import CLAIMED, INVESTED_HIGH, REASSURE_PLAIN, REASSURE_RISKY, what_now
from bot.messages import Button, Outbound, Turn
from bot.riskcheck.check import RiskChecker, RiskReport
from bot.riskcheck.reply import render_details, render_personal
from bot.textnorm import normalise

_CLAIMS = frozenset({"fake_endorsement"})  # a claim of standing, no promise in it
_ALONE_NO_CASE = frozenset({"public_solicitation"})  # where it was heard, and nothing of what was promised
# an ordinary case asked about again (那这算不算非法集资) stays on its own topic when it is one of these
_PLAIN_TOPICS = frozenset({"legit_finance", "four_features", "verify_institution", "definition"})
_FOLLOW_MAX = 16  # a follow-up is short: longer text is a new message
_PLAIN_FOLLOW_MAX = 10  # after an ordinary case a longer 咋办 asks about something new
# topics that can carry a verdict as they are; any other topic gives way to the flags' own topic
_SCHEME_TOPICS = frozenset({
    "red_flags", "four_features", "definition", "legit_finance", "group_elderly", "group_student",
    "group_finance_staff", "group_civil_servant", "law_participant_loss", "law_promoter_liability",
    "victim_what_to_do", "case_disposal",
})
# topics whose answer is no advice on a scheme: the flags' own topic answers instead
_NOT_ADVICE = frozenset({"out_of_scope", "greet", "thanks_bye", "bot_identity", "human_handoff", "campaign_info",
                         "subscribe", "unsubscribe", "report_status"})
_SITUATION_MIN = 12  # characters: a shorter message tells no situation to remember
_STORY_MIN = 25  # characters from which a message is a story, whatever it asks
_FIGURE = re.compile(r"[\d一二两三四五六七八九十百千万]")


class Knowledge(Protocol):
    def answer(self, topic: str) -> Outbound: ...
    def more(self, topic: str) -> Outbound | None: ...


class Offices(Protocol):
    def resolve(self, text: str) -> Any: ...


class VerdictHandler:
    def __init__(self, checker: RiskChecker, knowledge: Knowledge, offices: Offices | None = None,
                 hints: TopicHints | None = None, clock: Callable[[], float] = time.time) -> None:
        self._checker = checker
        self._kb = knowledge
        self._offices = offices
        self.hints = hints or TopicHints({})
        self._clock = clock

    # -- the verdict ----------------------------------------------------------------------------------
    def assess(self, text: str) -> RiskReport | None:
        """The flags of what the person describes; None when they describe no promise. One flag raised by a
        word alone in a short message ("啥叫资金盘", "原始股是啥东西") is a question about a kind of scheme,
        not a case: the topic answers it."""
        report = self._checker.analyse(text, personal=True)
        if not report.flags:
            return None
        if set(report.flag_ids) <= _CLAIMS and report.annual_rate is None and VERIFY_ASK.search(normalise(text)):
            return None  # 他说他是正规的，怎么查: they ask how to check the claim; the topic tells them
        if set(report.flag_ids) <= _ALONE_NO_CASE and report.annual_rate is None:
            return None  # 兼职群里看到有人说刷单返利，我没参与: where, but no promise: the topic answers
        single = len(report.flags) == 1 and report.annual_rate is None
        if single and len(normalise(text)) < _STORY_MIN and not _FIGURE.search(report.flags[0].phrase):
            return None  # a word alone; 拉一个人给三百 names a figure and is a case
        return report

    def verdict(self, ctx: Ctx, report: RiskReport, topic: str | None, confidence: float = 1.0) -> Turn:
        topic = self._topic(report, topic)
        ctx.state.keep_checked(ctx.text, report, topic, self._clock())
        ctx.state.data["last_topic"] = topic
        first = Outbound(render_personal(report, self._checker.lexicon))
        replies = [first]
        if topic != "risk_check":
            advice = self._kb.answer(topic)
            replies.append(Outbound(advice.text, self._buttons(advice.buttons)))
        else:
            replies[0] = Outbound(first.text, self._buttons(()))
        return Turn(tuple(replies), topic, topic, confidence, red_flags=tuple(report.flag_ids))

    def remember(self, ctx: Ctx, topic: str) -> None:
        """A situation told without any promise (俺老伴住敬老院，一个月交两千二): kept for "那能交吗". A short
        question right after a flagged case (那帮他们发传单的人有责任吗) is about that case: the case stays."""
        kept = ctx.state.fresh_case(self._clock())
        if kept is not None and kept.get("flags") and len(ctx.norm) < _STORY_MIN:
            return  # a new story, though, is a new case
        topic = "legit_finance" if topic == "risk_check" else topic  # checked, nothing found: ordinary finance
        if len(ctx.norm) >= _SITUATION_MIN and (topic.startswith("tactic_") or topic in _SCHEME_TOPICS
                                                 or topic in ("verify_institution", "campaign_info")):
            ctx.state.keep_case({"flags": [], "verdict": "none", "topic": topic, "at": self._clock()})

    def _topic(self, report: RiskReport, topic: str | None) -> str:
        if topic and topic not in _NOT_ADVICE:  # the NLU knew what they ask (被骗后有人说能追回, 参与者的损失 …)
            return topic
        for flag in report.flags:
            if flag.topic != "red_flags":
                return flag.topic
        return "risk_check"

    @staticmethod
    def _buttons(extra: tuple[Button, ...] | tuple[()]) -> tuple[Button, ...]:
        labels = ["那怎么办", "我已经交钱了", "我要举报"]
        labels += [b.label for b in extra if b.label not in labels and "举报" not in b.label][:1]
        return tuple(Button(label) for label in labels)

    # -- follow-ups -----------------------------------------------------------------------------------
    def follow_up(self, ctx: Ctx) -> Turn | None:
        """A short message that only makes sense after the case just described; None otherwise."""
        case = ctx.state.fresh_case(self._clock())
        if case is None or len(ctx.norm) > _FOLLOW_MAX * 2:
            return None
        short = len(ctx.norm) <= _FOLLOW_MAX
        asks_on = INVESTED.search(ctx.norm) or WHAT_NOW.search(ctx.norm) or NOTES.search(ctx.norm)
        if not case.get("flags") and asks_on:  # nothing was flagged: more on what they asked, no victim steps;
            return self._on_topic(ctx, case) if len(ctx.norm) <= _PLAIN_FOLLOW_MAX else None  # longer: a new ask
        if INVESTED.search(ctx.norm) or (case.get("flags") and BLOCKED.search(ctx.norm)):
            return self._invested(ctx, case)  # 我已经投了五万 · 提现不了了
        if len(ctx.norm) <= _FOLLOW_MAX and WHAT_NOW.search(ctx.norm):
            return self._what_now(ctx, case)
        if not short or OTHER_PRODUCT.search(ctx.norm):  # longer, or 那买国债行不行: a new question, for the NLU
            return None
        flagged = bool(case.get("flags"))
        relief = RELIEF.match(ctx.norm) is not None
        if relief or (flagged and PAID_OUT.search(ctx.norm)):  # 那我放心了 · 可他已经提现好几次了
            return self._topic_answer(ctx, "thanks_bye" if relief else "red_flags")
        if flagged and CLAIM_BACK.search(ctx.norm):  # 他们说是国家支持的啊: a name or a licence makes nothing lawful
            return self._claimed(ctx)
        if LEGALITY.match(ctx.norm):  # 这犯法不: a scheme's crimes; an ordinary case is reassured
            return self._topic_answer(ctx, "law_crimes") if flagged else self._reassure(ctx, case)
        thanks = THANKS.search(ctx.norm) is not None and ASKS.search(ctx.norm) is None
        if (not flagged and CLASSIFY.search(ctx.norm)) or (REASSURE.search(ctx.norm) and not thanks):
            return self._reassure(ctx, case)  # 那能交吗 · 那这算被骗吗, after an ordinary case
        return None

    def _claimed(self, ctx: Ctx) -> Turn:
        return self._say(ctx, "verify_institution", Outbound(CLAIMED, (Button("那怎么办"), Button("我要举报"))))

    def _topic_answer(self, ctx: Ctx, topic: str) -> Turn:
        return self._say(ctx, topic, self._kb.answer(topic))

    @staticmethod
    def _say(ctx: Ctx, topic: str, out: Outbound) -> Turn:
        """One reply on `topic`; "更多" next goes to that topic."""
        ctx.state.data["last_topic"] = topic
        ctx.state.data.pop("more", None)
        return Turn((out,), topic, topic, 1.0)

    def unsure_follow_up(self, ctx: Ctx) -> Turn | None:
        """A short message the NLU is unsure of (超过多少不保) right after a case: more on that case's topic."""
        case = ctx.state.fresh_case(self._clock())
        if case is None or len(ctx.norm) > _FOLLOW_MAX or not case.get("topic"):
            return None
        if case.get("topic") == "risk_check":
            case = {**case, "topic": "red_flags"}
        return self._on_topic(ctx, case)

    def _on_topic(self, ctx: Ctx, case: dict[str, Any]) -> Turn:
        topic = case.get("topic") or "legit_finance"
        return self._say(ctx, topic, self._kb.more(topic) or self._kb.answer(topic))

    def _reassure(self, ctx: Ctx, case: dict[str, Any]) -> Turn:
        """"那能交吗" / "那我放心了吧" about the case just told."""
        ctx.state.data.pop("more", None)
        if case.get("flags"):
            topic = case.get("topic") or "risk_check"
            text = REASSURE_RISKY
            ctx.state.data["last_topic"] = topic
            return Turn((Outbound(text, self._buttons(())),), topic, topic, 1.0, red_flags=tuple(case["flags"]))
        topic = str(case["topic"]) if case.get("topic") in _PLAIN_TOPICS else "legit_finance"
        ctx.state.data["last_topic"] = topic
        text = REASSURE_PLAIN
        buttons = tuple(Button(b) for b in ("怎么查机构是否合法", "帮我看看靠不靠谱"))
        return Turn((Outbound(text, buttons),), topic, topic, 1.0)

    def more(self, ctx: Ctx) -> Turn | None:
        """"更多" right after a verdict: the details of that verdict (the next "更多" goes to the topic)."""
        case = ctx.state.fresh_case(self._clock())
        if ctx.state.data.get("more") != "case" or case is None or not case.get("text"):
            return None  # an ordinary story told since has no words kept: "更多" goes to its topic
        ctx.state.data.pop("more", None)
        pasted = bool(case.get("pasted"))
        report = self._checker.analyse(case["text"], personal=not pasted)
        topic = case.get("topic") or "risk_check"
        if topic == "risk_check" and not pasted:  # their own story: the flags' own topic, as the verdict's advice
            topic = next((f.topic for f in report.flags if f.topic != "red_flags"), "red_flags")
        text = render_details(report, self._checker.lexicon, pasted)
        return Turn((Outbound(text, self._buttons(())),), topic, topic, 1.0, red_flags=tuple(report.flag_ids))

    @staticmethod
    def correction(norm: str) -> str | None:
        """What a correction ("不是，我是说养老院那个") is about, or None when the message is none."""
        m = CORRECTION.match(norm)
        if m is None:
            return None
        rest = norm[m.end():].strip(" ,.!。")
        return rest if len(rest) >= 2 else None

    def _office_line(self, case: dict[str, Any]) -> str:
        office = self._offices.resolve(case.get("text", "")) if self._offices is not None else None
        if office is None or not getattr(office, "contacts", None):
            return "拿不准可以打12345，或者问村（居）委会、网格员。"
        return f"拿不准可以打{office.name}电话：{office.contacts.phone}。"

    def _what_now(self, ctx: Ctx, case: dict[str, Any]) -> Turn:
        text = what_now(case.get("verdict") == "high", self._office_line(case))
        buttons = tuple(Button(b) for b in ("我要举报", "我已经交钱了", "更多"))
        return self._say(ctx, "victim_what_to_do", Outbound(text, buttons))

    def _invested(self, ctx: Ctx, case: dict[str, Any]) -> Turn:
        advice = self._kb.answer("victim_what_to_do")
        head = "您已经交了钱，先别慌，也别再往里投。" + (INVESTED_HIGH if case.get("verdict") == "high" else "")
        buttons = (Button("我要举报"), *[b for b in advice.buttons if "举报" not in b.label][:2])
        text = f"{head}\n{advice.text}\n{self._office_line(case)}"
        return self._say(ctx, "victim_what_to_do", Outbound(text, buttons))
