"""The risk check's lexicon: content/red_flags.yaml, loaded and validated.

Office staff edit the YAML without touching code. Per flag id (exactly the ids of
content/spec/red_flags.yaml) they give `phrases` (plain words, matched after normalisation, so
Traditional or full-width spellings work too), optional `patterns` (regular expressions), a `why`
sentence and a `topic` id from topics.yaml. Optional per flag: `exclude` (longer words that contain
a phrase but mean something harmless, e.g. 互助养老) and `needs_any` (the flag only counts when one of
these words also appears in the text, e.g. 免费体检 only matters next to a lecture or an investment;
a stated yield meets it too), `exclude_patterns` (the same as regular expressions).
`variants` maps other spellings (homophones 利西, pinyin zhuan, slips) to the usual word before matching.
The `context` section holds the words that mark a warning (and the words that deny one: 不是骗人的), an
official notice, a negation (one word back, or a whole clause after 从未 / 严禁), a question, a turn from a
warning to the speaker's own offer, and an ask in front of a quoted text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from bot.textnorm import normalise

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_LEXICON = REPO_ROOT / "content" / "red_flags.yaml"
DEFAULT_SPEC_DIR = REPO_ROOT / "content" / "spec"
_CHAR_CLASS = re.compile(r"\[(?:\\.|[^\]])*\]")
_PUNCT = set(",.;:!?。，；：！？、…\"'“”‘’()（）《》【】[] ")


@lru_cache(maxsize=4)
def spec_flag_ids(spec_dir: Path = DEFAULT_SPEC_DIR) -> tuple[str, ...]:
    """The flag ids of the contract, in contract order."""
    data = yaml.safe_load((spec_dir / "red_flags.yaml").read_text(encoding="utf-8"))
    return tuple(data["red_flags"])


@lru_cache(maxsize=4)
def spec_topic_ids(spec_dir: Path = DEFAULT_SPEC_DIR) -> frozenset[str]:
    data = yaml.safe_load((spec_dir / "topics.yaml").read_text(encoding="utf-8"))
    return frozenset(data["topics"])


def _norm_words(words: list[str]) -> list[str]:
    out = [normalise(w) for w in words]
    if any(not w for w in out):
        raise ValueError("empty word in list")
    return out


def _alternation(words: Sequence[str], patterns: Sequence[str] = ()) -> re.Pattern[str] | None:
    parts = [re.escape(w) for w in sorted(set(words), key=len, reverse=True)] + list(patterns)
    return re.compile("|".join(f"(?:{p})" for p in parts)) if parts else None


def _required(words: Sequence[str], patterns: Sequence[str] = ()) -> re.Pattern[str]:
    """As `_alternation`, for the lists the check cannot do without."""
    found = _alternation(words, patterns)
    if found is None:
        raise ValueError("the lexicon leaves empty a list the check needs")
    return found


def _compile_all(patterns: list[str]) -> list[str]:
    for p in patterns:
        try:
            re.compile(p)
        except re.error as exc:
            raise ValueError(f"bad pattern {p!r}: {exc}") from exc
    return patterns


class FlagEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, ignored_types=(cached_property,))

    why: str = Field(min_length=4, max_length=40)
    short: str = Field(default="", max_length=20)  # the reason in a few words, for a verdict's first screen
    topic: str
    phrases: list[str] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    exclude_patterns: list[str] = Field(default_factory=list)  # the same, as regular expressions
    needs_any: list[str] = Field(default_factory=list)

    @field_validator("phrases", "exclude", "needs_any")
    @classmethod
    def _words(cls, v: list[str]) -> list[str]:
        return _norm_words(v)

    @field_validator("patterns", "exclude_patterns")
    @classmethod
    def _patterns(cls, v: list[str]) -> list[str]:
        return _compile_all(v)

    @field_validator("why")
    @classmethod
    def _why(cls, v: str) -> str:
        return v.strip()

    @model_validator(mode="after")
    def _something_to_match(self) -> FlagEntry:
        if not self.phrases and not self.patterns:
            raise ValueError("a flag needs at least one phrase or pattern")
        return self

    @cached_property
    def matcher(self) -> re.Pattern[str]:
        return _required(self.phrases, self.patterns)

    @cached_property
    def excluder(self) -> re.Pattern[str] | None:
        return _alternation(self.exclude, self.exclude_patterns)

    @cached_property
    def _position_free(self) -> bool:
        """No pattern looks at where a sentence starts or ends (^, $, lookarounds, \\b): a search of the whole
        text then finds whatever a search of each sentence would."""
        bare = [_CHAR_CLASS.sub("", p) for p in self.patterns]  # [^,。] is no anchor
        return not any(mark in p for p in bare for mark in ("^", "$", "(?<", "(?=", "(?!", "\\b"))

    def surely_absent(self, text: str) -> bool:
        """True when no phrase or pattern of this flag occurs anywhere in `text` (so no sentence of it can
        raise the flag); False when one may."""
        return self._position_free and self.matcher.search(text) is None

    @cached_property
    def needs_re(self) -> re.Pattern[str] | None:
        """Any word of `needs_any` (None: the flag needs nothing else)."""
        return _alternation(self.needs_any)


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

    @field_validator(
        "warning_cues", "warning_exceptions", "cue_negations", "authority_markers", "official_markers", "negations",
        "negation_exceptions", "clause_negations", "money_words", "personal_cue_ignores",
    )
    @classmethod
    def _words(cls, v: list[str]) -> list[str]:
        return _norm_words(v)

    @field_validator("narrative_patterns", "question_patterns", "claim_patterns", "contrast_patterns", "intro_patterns",
                     "ask_patterns")
    @classmethod
    def _patterns(cls, v: list[str]) -> list[str]:
        return _compile_all(v)

    @cached_property
    def warning_re(self) -> re.Pattern[str]:
        return _required(self.warning_cues, self.narrative_patterns)

    @cached_property
    def intro_re(self) -> re.Pattern[str] | None:
        return _alternation([], self.intro_patterns)

    @cached_property
    def contrast_re(self) -> re.Pattern[str] | None:
        return _alternation([], self.contrast_patterns)

    @cached_property
    def warning_exception_re(self) -> re.Pattern[str] | None:
        return _alternation(self.warning_exceptions)

    @cached_property
    def question_re(self) -> re.Pattern[str]:
        return _required([], self.question_patterns)

    @cached_property
    def claim_re(self) -> re.Pattern[str]:
        return _required([], self.claim_patterns)

    @cached_property
    def official_patterns(self) -> tuple[tuple[str, re.Pattern[str]], ...]:
        return tuple((w, re.compile(re.escape(w))) for w in self.official_markers)

    @cached_property
    def ask_re(self) -> re.Pattern[str] | None:
        return _alternation([], self.ask_patterns)

    @cached_property
    def personal_ignore_re(self) -> re.Pattern[str] | None:
        return _alternation(self.personal_cue_ignores)


class DepositRate(BaseModel):
    """What a one-year bank deposit pays today: the comparison in every reply. An office updates it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    percent: float = Field(default=1.5, gt=0, le=20)  # the figure the multiple is computed against
    text: str = Field(default="1%到2%", min_length=1, max_length=20)  # how the reply says it
    as_of: str = ""  # when it was last checked, for the office


class Lexicon(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, ignored_types=(cached_property,))

    version: int = 1
    high_return_threshold: float = Field(default=10.0, gt=0, le=100)  # percent a year, simple interest
    # a yield from this rate up raises high_return when it comes with a guarantee or a disguise (保本 + 年化8%):
    # the regulator's rule of thumb (6% 打问号, 8% 很危险, 10%以上 准备损失全部本金)
    guaranteed_return_threshold: float = Field(default=6.0, gt=0, le=100)
    deposit_rate: DepositRate = Field(default_factory=lambda: DepositRate())
    money: list[str] = Field(default_factory=list)  # shared investment vocabulary (a YAML anchor for needs_any)
    variants: dict[str, str] = Field(default_factory=dict)  # variant spelling → usual form (利西 → 利息)
    flags: dict[str, FlagEntry]
    context: ContextWords

    @field_validator("variants")
    @classmethod
    def _variants(cls, v: dict[str, str]) -> dict[str, str]:
        out = {normalise(k): normalise(w) for k, w in v.items()}
        if any(not k or not w or " " in k for k, w in out.items()):
            raise ValueError("variants: empty spelling or one with a space")
        return out

    @cached_property
    def variant_re(self) -> re.Pattern[str] | None:
        """Variant spellings; a Latin-letter end must not run on into a longer word (ben, not bench)."""
        parts = []
        for key in sorted(self.variants, key=len, reverse=True):
            head = "(?<![a-z'])" if key[0].isascii() and key[0].isalpha() else ""
            tail = "(?![a-z'])" if key[-1].isascii() and key[-1].isalpha() else ""
            parts.append(f"{head}{re.escape(key)}{tail}")
        return re.compile("|".join(parts)) if parts else None

    @model_validator(mode="after")
    def _check_ids(self, info: ValidationInfo) -> Lexicon:
        ctx = info.context or {}
        spec_ids = tuple(ctx.get("flag_ids") or spec_flag_ids())
        topic_ids = ctx.get("topic_ids") or spec_topic_ids()
        unknown = [f for f in self.flags if f not in spec_ids]
        if unknown:
            raise ValueError(f"unknown flag id(s) not in red_flags.yaml: {', '.join(unknown)}")
        missing = [f for f in spec_ids if f not in self.flags]
        if missing:
            raise ValueError(f"flag id(s) without an entry: {', '.join(missing)}")
        for fid, entry in self.flags.items():
            if entry.topic not in topic_ids:
                raise ValueError(f"flag {fid}: topic {entry.topic!r} is not a topic id of topics.yaml")
        bad = [f for f in self.context.official_suppresses if f not in spec_ids]
        if bad:
            raise ValueError(f"context.official_suppresses: unknown flag id(s) {', '.join(bad)}")
        # keep the contract's order, whatever order the file uses
        object.__setattr__(self, "flags", {f: self.flags[f] for f in spec_ids})
        return self

    @property
    def threshold(self) -> float:
        """The high-return threshold as a fraction a year (0.10 for 10%)."""
        return self.high_return_threshold / 100

    @property
    def guaranteed_threshold(self) -> float:
        """From this yearly rate up (0.06), a yield that comes with a guarantee or a disguise is high."""
        return self.guaranteed_return_threshold / 100

    @classmethod
    def from_dict(cls, data: dict[str, Any], spec_dir: Path | None = None) -> Lexicon:
        spec = spec_dir or DEFAULT_SPEC_DIR
        ctx = {"flag_ids": spec_flag_ids(spec), "topic_ids": spec_topic_ids(spec)}
        return cls.model_validate(data, context=ctx)

    @classmethod
    def load(cls, path: Path | str = DEFAULT_LEXICON, spec_dir: Path | None = None) -> Lexicon:
        """Load and validate; the contract is read from `spec/` beside the file, else content/spec."""
        path = Path(path)
        if spec_dir is None and (path.parent / "spec" / "red_flags.yaml").exists():
            spec_dir = path.parent / "spec"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a mapping with `flags` and `context`")
        return cls.from_dict(data, spec_dir)


def _mask(text: str, pattern: re.Pattern[str] | None) -> str:
    """`text` with every match of `pattern` blanked out (same length, so offsets still hold)."""
    if pattern is None:
        return text
    return pattern.sub(lambda m: "#" * len(m.group()), text)


def is_negated(sentence: str, start: int, ctx: ContextWords) -> bool:
    """Whether a negation ends right before `start` in the same clause: a one-character one (不, 非)
    directly, a longer one (不承诺, 没有) at most two characters before (没有任何返利)."""
    pre = sentence[max(0, start - 8) : start]
    for i in range(len(pre) - 1, -1, -1):
        if pre[i] in _PUNCT:
            pre = pre[i + 1 :]
            break
    for word in ctx.negation_exceptions:
        pre = pre.replace(word, "#" * len(word))
    for word in ctx.negations:
        pos = pre.rfind(word)
        if pos >= 0 and len(pre) - (pos + len(word)) <= (2 if len(word) > 1 else 0):
            return True
    clause = sentence[max(0, start - 30) : start]  # 本行从未通过微信群、短信推销高收益理财
    cut = max((clause.rfind(c) for c in ",;:!?。，；：！？"), default=-1)
    return any(w in clause[cut + 1 :] for w in ctx.clause_negations)


def find_phrase(entry: FlagEntry, sentence: str, ctx: ContextWords) -> tuple[int, int] | None:
    """The first span of `sentence` that raises this flag: not inside an excluded word, not negated."""
    masked = _mask(sentence, entry.excluder)
    for m in entry.matcher.finditer(masked):
        if m.end() > m.start() and not is_negated(sentence, m.start(), ctx):
            return m.start(), m.end()
    return None


def is_warning(sentence: str, ctx: ContextWords) -> bool:
    """A sentence that warns against, or reports on, what it names; a denied cue (不是骗人的) is none."""
    masked = _mask(sentence, ctx.warning_exception_re)
    for m in ctx.warning_re.finditer(masked):
        before = masked[max(0, m.start() - 6) : m.start()]
        if not any(before.endswith(w) or before[:-1].endswith(w) for w in ctx.cue_negations):
            return True
    return False


def is_generic_question(sentence: str, ctx: ContextWords) -> bool:
    """A question about a kind of product ("保本理财是不是都不靠谱"), quoting no concrete offer."""
    return ctx.question_re.search(sentence) is not None and ctx.claim_re.search(sentence) is None
