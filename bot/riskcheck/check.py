"""The risk check: which red flags of illegal fundraising a pasted text raises, and the reply about it.

The text is normalised (bot.textnorm), variant spellings are respelled (利西 → 利息, from the lexicon) and it
is cut into sentences (。!?; and line breaks). A sentence that warns or reports (警惕, 谨防, 不要相信, 被判处,
跑路 …) or asks a general question (保本理财是不是都不靠谱) raises nothing; a text whose first sentence or
a warning names an authority or a victim's outcome (警方, 处非办, 据报道, 人去楼空 …) raises nothing at all.
A warning that turns to the speaker's own offer (别的都是骗人的，我们这个是真的) warns only up to the
turn, and an ask in front of a quote (帮我看看这个靠谱吗：…) is kept apart from it. An official notice
(储蓄国债, 定期存款 …) that states no high yield does not raise the flags its wording shares with pitches
(到期还本, 额度有限); a comparison that runs it down (比国债还稳) is no such notice. A phrase right after a
negation (不承诺保本) or later in a clause opened by 从未 / 严禁 is ignored. Yields are read by
bot.riskcheck.numbers and compared, as a simple annual rate, with the lexicon's threshold (10% a year by
default); a daily or weekly payout said with a yield word raises high_return whatever its size, and paying
back more than was paid in (一年后返还2400元 on 2000) raises guaranteed_principal. Every reply fits one
WeChat passive reply (2048 bytes of UTF-8).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.riskcheck.aligned import Aligned, align, respell, sentences
from bot.riskcheck.lexicon import DEFAULT_LEXICON, Lexicon, spec_flag_ids
from bot.riskcheck.matching import find_phrase, is_generic_question, is_warning
from bot.riskcheck.money import has_money_amount
from bot.riskcheck.numbers import find_rates
from bot.riskcheck.periods import RateHit

WECHAT_PASSIVE_LIMIT = 2048
VERDICT_WORDS = {"high": "明显高风险", "caution": "需要警惕", "none": "未发现明显危险信号"}
QUOTE_MAX = 12  # characters of a quoted phrase that a reply shows whole
CORE_FLAGS = frozenset({"guaranteed_principal", "high_return"})
# flags that make a 6–10% yield a danger sign: a guarantee, or a scheme's disguise
_BACKED = frozenset({"guaranteed_principal", "referral_reward", "pension_disguise", "crypto_disguise",
                     "rebate_disguise", "mutual_aid_disguise", "ipo_equity_lure", "leaseback_disguise",
                     "collectibles_disguise", "charity_disguise"})
_COMPARED = re.compile(r"[比像跟]")
_LEAD = re.compile(  # 投十万 / 拿个五万块放进去: the sum a payout is paid on, right before it
    r"(?:投|存|交|买|入股|充值|充|放|拿)[^,;:!?。\s]{0,3}?(?:\d+|[一二两三四五六七八九十百千万]+)(?:万|千|元|块钱|块)?"
    r"[^,;:!?。\s\d]{0,4}$"
)
_RUN_DOWN = re.compile(r"不如|才|只有|太低|不划算|没什么|强多了|低")


@dataclass(frozen=True)
class Flag:
    id: str
    phrase: str  # the text that raised it, from the original input where it can be located
    why: str
    topic: str


@dataclass(frozen=True)
class RiskReport:
    flags: tuple[Flag, ...]
    verdict: str                # "high" | "caution" | "none"
    annual_rate: float | None   # the highest yield stated, as a simple annual rate (0.18 = 18%)

    @property
    def flag_ids(self) -> list[str]:
        order = {fid: i for i, fid in enumerate(spec_flag_ids())}
        return sorted((f.id for f in self.flags), key=lambda fid: order.get(fid, len(order)))


def verdict_for(flag_ids: list[str] | tuple[str, ...], stated_high_yield: bool = False) -> str:
    """high: ≥3 flags, or 保本/高收益 plus another flag, or a stated yield at or above the threshold (投十万
    每年返一万二: a promised 12% a year is the mark by itself); caution: one or two other flags; none: none."""
    n = len(set(flag_ids))
    if n >= 3 or (n >= 2 and CORE_FLAGS & set(flag_ids)) or (stated_high_yield and "high_return" in flag_ids):
        return "high"
    return "caution" if n else "none"


ANALYSED = 1024  # texts whose report is kept (a few hundred KB)


class RiskChecker:
    def __init__(self, lexicon: Lexicon | Mapping[str, Any]):
        self.lexicon = lexicon if isinstance(lexicon, Lexicon) else Lexicon.from_dict(dict(lexicon))
        # one turn reads the same text several times (is it a pitch? what does it promise?): prepare it once;
        # the same question asked again (a menu item, a campaign's question) is read once too
        self.prepare = lru_cache(maxsize=256)(self._prepare)
        self.analyse = lru_cache(maxsize=ANALYSED)(self._analyse)  # type: ignore[method-assign]

    @classmethod
    def from_file(cls, path: Path | str = DEFAULT_LEXICON) -> RiskChecker:
        return cls(Lexicon.load(path))

    def _pieces(self, a: Aligned) -> list[tuple[int, int]]:
        """Sentences, a warning one cut where a clause turns to the speaker's own offer
        (别的平台都是骗人的，我们这个是真的…): the warning covers only what comes before."""
        ctx, out = self.lexicon.context, []
        for s, e in sentences(a):
            intro = ctx.intro_re.match(a.norm, s, e) if ctx.intro_re is not None else None
            if intro and e - intro.end() >= 6:  # 帮我看看这个靠谱吗：… — the ask apart from what it quotes
                out.append((s, intro.end()))
                s = intro.end()
            cuts = [s]
            if is_warning(a.norm[s:e], ctx) and ctx.contrast_re is not None:
                cuts += [m.start() + s for m in ctx.contrast_re.finditer(a.norm, s, e)]
            out += [(lo, hi) for lo, hi in zip(cuts, cuts[1:] + [e], strict=True) if hi > lo]
        return out

    def _official(self, norm: str) -> bool:
        """Names a licensed product or institution (储蓄国债, 定期存款), not in a comparison that runs it
        down (比国债还稳, 存银行才一点几, 放银行不如放我们这)."""
        for word, pattern in self.lexicon.context.official_patterns:
            if word not in norm:
                continue
            for m in pattern.finditer(norm):
                before, after = norm[max(0, m.start() - 3) : m.start()], norm[m.end() : m.end() + 8]
                if not _COMPARED.search(before + "|") and not _RUN_DOWN.search(after):
                    return True
        return False

    def _active(self, a: Aligned, personal: bool = False, raw: str | None = None) -> list[tuple[int, int]]:
        """The sentences that may raise flags: not warnings, not general questions. `personal`: the text
        is a person's own story, so their own ask (这个算不算非法集资啊) and worry (怕是骗局, 老板跑路了)
        are no warning."""
        ctx = self.lexicon.context
        spans = self._pieces(a)
        if not spans:
            return []  # only emoji or punctuation
        said = _masked(a.norm, ctx.personal_ignore_re) if personal else a.norm
        warnings = [is_warning(said[s:e], ctx) for s, e in spans]
        # a text is a warning from an authority when its first sentence or a warning names one
        # (警方提醒, 据报道, 处非办); a pitch that merely claims one (金融办备案) is not
        voices = [said[s:e] for (s, e), w in zip(spans, warnings, strict=True) if w] + [said[slice(*spans[0])]]
        if any(warnings) and any(m in v for v in voices for m in ctx.authority_markers):
            return []
        asked = raw if raw is not None else a.norm  # the question words before the ask was masked
        return [
            (s, e) for (s, e), warn in zip(spans, warnings, strict=True)
            if not warn and not is_generic_question(asked[s:e], ctx)
        ]

    def _rate_flag(self, rates: list[RateHit], backed: bool = False) -> RateHit | None:
        """The stated yield that raises high_return, if any: the highest one. A payout on a deposit not said
        raises it when daily or weekly, or (`backed`: with a scheme's disguise or a guarantee) at any period."""
        t = self.lexicon.threshold
        periods = ("day", "week", "month", "year") if backed else ("day", "week")
        raising = [
            r for r in rates
            if (r.annual is not None and r.annual >= t)
            or (r.annual is None and (r.strong or backed) and r.period in periods)
        ]
        return max(raising, key=lambda r: r.annual or 0.0, default=None)

    def _prepare(self, text: str) -> Aligned:
        """The text, normalised, aligned to the input and with variant spellings respelled."""
        return respell(align(text), self.lexicon.variant_re, self.lexicon.variants)

    def analyse(self, text: str, personal: bool = False) -> RiskReport:
        """The flags a text raises (cached per instance: a report is immutable and depends on the text alone)."""
        return self._analyse(text, personal)

    def _analyse(self, text: str, personal: bool = False) -> RiskReport:
        """The flags a text raises. `personal`: the text is a person telling their own case (a question, a
        story, a voice transcript), not a pasted pitch: see `_active`."""
        lex, a = self.lexicon, self.prepare(text)
        raw = None
        if personal:  # their own ask (这个算不算非法集资啊, 有没有风险) is neither a warning nor a claim
            raw, a = a.norm, replace(a, norm=_masked(a.norm, lex.context.ask_re))
        active = self._active(a, personal, raw)
        active_text = " ".join(a.norm[s:e] for s, e in active)
        rates = [r for r in find_rates(a.norm) if any(s <= r.start < e for s, e in active)]
        # any `needs_any` list is met by a stated yield; the shared money list also by a sum of money
        money = has_money_amount(active_text)
        hits: dict[str, tuple[int, int]] = {}
        for fid, entry in lex.flags.items():
            if entry.needs_re is not None and not rates and not entry.needs_re.search(active_text) and not (
                money and entry.needs_any == lex.money
            ):
                continue
            if entry.surely_absent(active_text):
                continue  # no phrase of it anywhere in the text: no sentence to look through
            for s, e in active:
                span = find_phrase(entry, a.norm[s:e], lex.context)
                if span:
                    hits[fid] = (s + span[0], s + span[1])
                    break
        known = [r.annual for r in rates if r.annual is not None]
        annual = round(max(known), 6) if known else None
        raising = self._rate_flag(rates, backed=bool(_BACKED & set(hits)))
        if raising is None and _BACKED & set(hits):  # 保本 + 年化8%: a guaranteed 6–10% is no ordinary yield
            raising = max((r for r in rates if r.annual is not None and r.annual >= lex.guaranteed_threshold),
                          key=lambda r: r.annual or 0.0, default=None)
        official = self._official(a.norm)
        if raising is None and official:  # 国债一年给八个点: no licensed product pays 6% or more now
            raising = max((r for r in rates if r.annual is not None and r.annual >= lex.guaranteed_threshold),
                          key=lambda r: r.annual or 0.0, default=None)
        if raising is not None:  # quoted with the sum it is paid on when that comes right before (投十万每年返一万二)
            lead = _LEAD.search(a.norm, max(0, raising.start - 10), raising.start)
            short = lead is not None and raising.end - lead.start() <= QUOTE_MAX
            hits["high_return"] = (lead.start() if lead and short else raising.start, raising.end)
        elif "high_return" in hits and known and max(known) < lex.guaranteed_threshold:
            del hits["high_return"]  # 年息百分之三，比存银行多一点: the figure said is low, whatever the words
        repay = next((r for r in rates if r.repays), None)  # 一年后返还2400元 on 2000: principal promised
        if repay is not None and "guaranteed_principal" not in hits:
            hits["guaranteed_principal"] = (repay.start, repay.end)
        ctx = lex.context
        if (
            official
            and (annual is None or annual < lex.threshold) and raising is None
            and set(hits) <= set(ctx.official_suppresses)
        ):
            hits = {}
        flags = tuple(
            Flag(fid, a.original(*hits[fid]), entry.why, entry.topic)
            for fid, entry in lex.flags.items() if fid in hits
        )
        high_yield = annual is not None and annual >= lex.threshold
        return RiskReport(flags, verdict_for([f.id for f in flags], high_yield), annual)

    def looks_like_pitch(self, text: str) -> bool:
        """Plainly a pitch: two flags or more, or a high yield figure next to money words."""
        report = self.analyse(text)
        if len(report.flags) >= 2:
            return True
        norm = self.prepare(text).norm
        return (
            "high_return" in report.flag_ids
            and report.annual_rate is not None
            and report.annual_rate >= self.lexicon.threshold
            and any(w in norm for w in self.lexicon.context.money_words)
        )


def _masked(text: str, pattern: re.Pattern[str] | None) -> str:
    """`text` with every match of `pattern` turned into commas: same length, so spans still hold."""
    return pattern.sub(lambda m: "," * len(m.group()), text) if pattern is not None else text
