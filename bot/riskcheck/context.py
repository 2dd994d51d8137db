"""The lexicon's `context` section (warnings, notices, negations, questions, asks) and the deposit rate."""

from __future__ import annotations

import re
from functools import cached_property

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.riskcheck.patterns import alternation, compile_all, norm_words


class ContextWords(BaseModel):
    """Words that change what a sentence means (all matched on normalised text)."""

    model_config = ConfigDict(extra="forbid", frozen=True, ignored_types=(cached_property,))

    warning_cues: list[str]            # 警惕, 谨防, 不要相信 …: the sentence warns against what it names
    warning_exceptions: list[str]      # 谨防错过, 不是骗局 …: look like a cue, are part of a pitch
    cue_negations: list[str] = Field(default_factory=list)  # 不是, 并非 …: a cue right after one is denied
    contrast_patterns: list[str] = Field(default_factory=list)  # ,我们这个 …: a warning stops at the turn
    intro_patterns: list[str] = Field(default_factory=list)  # 帮我看看这个靠谱吗： …: an ask before a quote
    narrative_patterns: list[str]      # 以…为诱饵, 被判处 …: the sentence reports a case
    authority_markers: list[str]       # 警方, 处非办, 据报道 …: with one warning sentence, the text is a warning
    official_markers: list[str]        # 储蓄国债, 存款保险 …: a licensed institution's notice
    official_suppresses: list[str]     # flags an official notice at an ordinary rate does not raise
    negations: list[str]               # 不, 没有, 不承诺 … just before a phrase cancel it
    negation_exceptions: list[str]     # 不仅, 非常 …: start with a negation, are none
    clause_negations: list[str] = Field(default_factory=list)  # 从未, 严禁 …: negate the rest of the clause
    question_patterns: list[str]       # a sentence asking about a kind of product, not quoting an offer
    claim_patterns: list[str]          # 他说, 告诉我, a figure …: the question quotes a concrete offer
    money_words: list[str]             # investment vocabulary for looks_like_pitch
    # a person describing their own case (俺家老头子…中不中): their own ask and worry is no warning
    ask_patterns: list[str] = Field(default_factory=list)        # 这个算不算非法集资啊, 中不中 …: masked out
    personal_cue_ignores: list[str] = Field(default_factory=list)  # 骗局, 跑路 …: no warning in their story
    personal_ignore_patterns: list[str] = Field(default_factory=list)  # 打着…的名义: how they tell it, no report

    @field_validator(
        "warning_cues", "warning_exceptions", "cue_negations", "authority_markers", "official_markers", "negations",
        "negation_exceptions", "clause_negations", "money_words", "personal_cue_ignores",
    )
    @classmethod
    def _words(cls, v: list[str]) -> list[str]:
        return norm_words(v)

    @field_validator("narrative_patterns", "question_patterns", "claim_patterns", "contrast_patterns", "intro_patterns",
                     "ask_patterns", "personal_ignore_patterns")
    @classmethod
    def _patterns(cls, v: list[str]) -> list[str]:
        return compile_all(v)

    @cached_property
    def warning_re(self) -> re.Pattern[str]:
        return alternation(self.warning_cues, self.narrative_patterns)  # type: ignore[return-value]

    @cached_property
    def intro_re(self) -> re.Pattern[str] | None:
        return alternation([], self.intro_patterns)

    @cached_property
    def contrast_re(self) -> re.Pattern[str] | None:
        return alternation([], self.contrast_patterns)

    @cached_property
    def warning_exception_re(self) -> re.Pattern[str] | None:
        return alternation(self.warning_exceptions)

    @cached_property
    def question_re(self) -> re.Pattern[str]:
        return alternation([], self.question_patterns)  # type: ignore[return-value]

    @cached_property
    def claim_re(self) -> re.Pattern[str]:
        return alternation([], self.claim_patterns)  # type: ignore[return-value]

    @cached_property
    def official_patterns(self) -> tuple[tuple[str, re.Pattern[str]], ...]:
        return tuple((w, re.compile(re.escape(w))) for w in self.official_markers)

    @cached_property
    def ask_re(self) -> re.Pattern[str] | None:
        return alternation([], self.ask_patterns)

    @cached_property
    def personal_ignore_re(self) -> re.Pattern[str] | None:
        return alternation(self.personal_cue_ignores, self.personal_ignore_patterns)


class DepositRate(BaseModel):
    """What a one-year bank deposit pays today: the comparison in every reply. An office updates it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    percent: float = Field(default=1.5, gt=0, le=20)  # the figure the multiple is computed against
    text: str = Field(default="1%到2%", min_length=1, max_length=20)  # how the reply says it
    as_of: str = ""  # when it was last checked, for the office
