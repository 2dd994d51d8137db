"""Periods said beside a yield (每月, 年化, 三个月, 半年) and the hit a yield reading returns."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.riskcheck.numerals import NUM, parse_number

DAYS = {"小时": 1 / 24, "天": 1, "日": 1, "周": 7, "星期": 7, "礼拜": 7, "个月": 365 / 12, "月": 365 / 12, "年": 365}
PERIODS_PER_YEAR = {"day": 365.0, "week": 52.0, "month": 12.0, "quarter": 4.0, "year": 1.0}
_PERIOD_WORDS = [  # (regex, period, is it a yield word by itself)
    (r"年化|年息|年利|年收益|年回报|年分红|年租金|年返", "year", True),
    (r"每年|一年|年均|全年|年底|年终", "year", False),
    (r"季息|季收益|季度收益|季度分红", "quarter", True), (r"每个?季度?|一个季度|按季", "quarter", False),
    (r"月息|月利|月化|月收益|月回报|月分红|月返", "month", True), (r"每个?月|月月|一个月|按月|月底", "month", False),
    (r"周息|周化|周收益|周回报|周返", "week", True),
    (r"每个?(?:周|星期|礼拜)[一二三四五六日天末]?|一周|一个?星期|一个?礼拜|周周", "week", False),
    (r"日息|日利|日化|日收益|日回报|日分红|日返|日产", "day", True), (r"每天|每日|天天|一天|按天|日日", "day", False),
]
PERIOD_RE = [(re.compile(p), per, strong) for p, per, strong in _PERIOD_WORDS]
_SPAN_RE = re.compile(rf"({NUM}|半)\s*(个)?\s*(小时|天|日|周|星期|礼拜|个月|月|年)(?![期代级前底初末龄度纪])")
_CLAUSE_END = frozenset(",;:!?。，；：！？")

@dataclass(frozen=True)
class RateHit:
    annual: float | None  # fraction a year, simple interest; None for a payout without a known deposit
    start: int            # span in the normalised text
    end: int
    period: str           # day / week / month / quarter / year, or "span" for N days / months
    kind: str             # percent / payout / lump / multiple / growth / price
    strong: bool = True   # said with a yield word (返, 分红, 利息 …), not a bare 给 / 发 / 有
    repays: bool = False  # pays back more than the deposit itself (一年后返还2400元 on 2000): principal promised


def clause_bounds(text: str, start: int, end: int, before: int, after: int) -> tuple[int, int]:
    """A window around text[start:end] that stops at punctuation (not at spaces)."""
    lo, hi = max(0, start - before), min(len(text), end + after)
    left = [i for i in range(lo, start) if text[i] in _CLAUSE_END]
    right = [i for i in range(end, hi) if text[i] in _CLAUSE_END]
    return (left[-1] + 1 if left else lo), (right[0] if right else hi)


@dataclass(frozen=True)
class _Period:  # name: day/week/month/year/span or None; strong: a yield word itself (年化, not 每月)
    name: str | None = None
    per_year: float = 1.0
    strong: bool = False
    start: int = -1
    end: int = -1
    dist: int = 10**6


def _distance(a: int, b: int, start: int, end: int) -> int:
    return start - b if b <= start else (a - end if a >= end else 0)


def period_near(text: str, start: int, end: int) -> _Period:
    """The period word nearest to text[start:end], in the same clause."""
    lo, hi = clause_bounds(text, start, end, 12, 8)
    best = _Period()
    for regex, period, strong in PERIOD_RE:
        for m in regex.finditer(text, lo, hi):
            dist = _distance(m.start(), m.end(), start, end)
            if dist < best.dist:
                best = _Period(period, PERIODS_PER_YEAR[period], strong, m.start(), m.end(), dist)
    for m in _SPAN_RE.finditer(text, lo, hi):
        dist = _distance(m.start(), m.end(), start, end)
        count = 0.5 if m.group(1) == "半" else parse_number(m.group(1))
        if count and dist < best.dist:
            best = _Period("span", 365 / (count * DAYS[m.group(3)]), False, m.start(), m.end(), dist)
    return best


def with_period(text: str, p: _Period, start: int, end: int) -> tuple[int, int]:
    """The hit's span, grown to take in its period word when that is right beside it (年化18%)."""
    if p.name is None or p.dist > 3:
        return start, end
    lo = p.start - 1 if p.start > 0 and text[p.start - 1] == "每" else p.start
    return min(start, lo), max(end, p.end)


def sentence_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    lo = max((text.rfind(c, 0, start) for c in "。!?;"), default=-1) + 1
    his = [i for i in (text.find(c, end) for c in "。!?;") if i >= 0]
    return lo, min(his, default=len(text))
