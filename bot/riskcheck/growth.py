"""Yields said as multiples (一年翻倍, 涨了一倍), sums that grow (一万变三万) and prices that rise after a listing."""

from __future__ import annotations

import re

from bot.riskcheck.numerals import CN_CHARS, NUM, is_money, parse_number
from bot.riskcheck.periods import RateHit, period_near, sentence_bounds, with_period

_MULT = re.compile(
    rf"翻\s*(?:了)?\s*(?P<n>{NUM})?\s*(?P<u>倍|番)|(?P<m>{NUM})\s*倍\s*(?:的)?(?:价钱|价格|价)?\s*(?:的)?(?:收益|回报|利润|回款|回购|回收|买回|收回)"
    rf"|(?:(?P<up>升值|增值|涨了?)|返还?|回报|收益|赚了?|至少|起码|最少|收到|拿到|拿回|拿|得到|获得|变成?)\s*(?:了|到)?"
    rf"\s*(?P<r>{NUM})\s*倍"
)
_MULT_NOT = re.compile(r"积分|菜价|物价|房价|油价|肉价|销量|人数|客流|产量|业绩|成交量")
_MONEY_NEAR = re.compile(
    r"投|资金|本金|收益|回报|赚|钱|理财|项目|币|股|存|升值|分红|利|卖出|售价|发售|价格|回款|打款|回购|购买|"
    r"元|块|万|出局|排单|收藏|藏品|转让|挂牌|售|卖"
)
_GROW = re.compile(  # 一万变三万, 两千块放进去明年就是六千
    rf"(?P<a>{NUM})\s*(?P<ua>元|块钱|块|万元|万|u)?[^\d。;!?{CN_CHARS}]{{0,16}}?(?:变成|变为|变|滚成|涨到|翻到|升到|能值|值|就是|已经有|账户里有|成了|给你|还你|还给你|给您|还您)"
    rf"\s*(?P<b>{NUM})\s*(?P<ub>元|块钱|块|万元|万|u)?"
)
_PRICE = re.compile(  # 每股1.5元 … 上市后至少十块; 99元一个 … 最低能卖300
    rf"(?:(?:每股|一股|认购价|发行价|现价|私募价|发售价|售价|现在|只要)[^\d,。;!?{CN_CHARS}]{{0,3}}?(?P<a>{NUM})"
    rf"\s*(?:元|块(?P<jiao>[一二三四五六七八九](?![十百千万亿点]))?|u)?(?:\s*(?:一股|每股|一份|一枚|一个))?"
    rf"|(?P<a2>{NUM})\s*(?:元|块钱|块|u)\s*(?:一股|每股|一份|一枚|一个|一张|一套|一饼|每份|每个))"
    rf"[^。;!?]{{0,24}}?(?:上市|挂牌|上所|上线|交易所|以后|之后|后|能卖|可卖|卖到|能值|值|涨到)[^\d。;!?]{{0,8}}?"
    rf"(?P<b>{NUM})\s*(?:元|块|u|美金)?"
)


def multiple_hits(text: str) -> list[RateHit]:
    hits = []
    for m in _MULT.finditer(text):
        if m.group("u"):
            n = parse_number(m.group("n")) if m.group("n") else 1.0
            if not n:
                continue
            total = 2.0**n if m.group("u") == "番" else (n if m.group("n") and n > 1 else 2.0)  # 翻一倍 = ×2
        else:
            total = parse_number(m.group("m") or m.group("r")) or 0.0
            if m.group("up"):  # 涨了一倍 = +100%: the multiple is one more than said
                total += 1
        lo, hi = sentence_bounds(text, m.start(), m.end())
        near = period_near(text, m.start(), m.end())
        beside = near.name is not None and near.dist <= 1  # 半年翻倍: a period said right with it
        if total <= 1 or not (_MONEY_NEAR.search(text, lo, hi) or beside):
            continue
        if _MULT_NOT.search(text, max(lo, m.start() - 4), m.end()):
            continue  # 积分翻倍, 菜价翻倍: not money that grows
        start, end = with_period(text, near, m.start(), m.end())
        hits.append(RateHit((total - 1) * near.per_year, start, end, near.name or "year", "multiple"))
    return hits


_BUYBACK = re.compile(  # 一坛五千，三年后公司按八千回购: bought at one price, bought back at a higher one
    rf"(?P<a>{NUM})\s*(?P<ua>元|块钱|块|万元|万)?[^\d。;!?]{{0,24}}?(?:按|以|用|后|以后)\s*(?P<b>{NUM})\s*(?P<ub>元|块钱|块|万元|万)?"
    r"\s*(?:的)?(?:价格?|价钱)?\s*(?:回购|买回|收回去|收购回去|回收|收回)"
)
# 一只羊2800，一年后回购价3500: the price said after the word
_BUYBACK_PRICE = re.compile(
    rf"(?P<a>{NUM})\s*(?P<ua>元|块钱|块|万元|万)?[^\d。;!?]{{0,24}}?(?:回购价|回收价)(?:格)?(?:是|为|就是)?\s*(?P<b>{NUM})"
)

_STAKE = re.compile(r"放|投|存|交|充|买")  # 放一千过十天就变一千三: a sum put in, money without a unit


def growth_hits(text: str) -> list[RateHit]:
    """A sum that grows into a bigger one (一万变三万), or a price that rises after a listing (每股1.5元 …
    上市后至少十块): the multiple, over the period said nearby (one year when none is said)."""
    hits = []
    for regex, kind in ((_GROW, "growth"), (_PRICE, "price"), (_BUYBACK, "buyback"), (_BUYBACK_PRICE, "buyback")):
        pos = 0
        while m := regex.search(text, pos):
            pos = m.start() + 1  # a rejected reading may hide a good one that starts inside it
            a = parse_number(m.group("a") or m.groupdict().get("a2") or "")
            if a and m.groupdict().get("jiao"):  # 一块五 = 1.5 元
                a += (parse_number(m.group("jiao")) or 0) / 10
            b = parse_number(m.group("b"))
            if not a or not b or b < a * 1.05:
                continue
            if kind == "buyback" and a < 50:
                continue
            staked = kind == "growth" and _STAKE.search(text, max(0, m.start() - 3), m.start()) is not None
            if kind == "growth" and not staked and not (
                is_money(m.group("a"), m.group("ua")) and is_money(m.group("b"), m.group("ub"))
            ):
                continue
            pos = m.end()
            near = period_near(text, m.start("b"), m.end("b"))
            per_year = near.per_year if near.name in ("span", "year") else 1.0
            hits.append(RateHit((b / a - 1) * per_year, m.start(), m.end(), "year", kind, True, kind == "buyback"))
    return hits
