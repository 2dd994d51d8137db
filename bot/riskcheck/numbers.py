"""Yields stated in a pitch, turned into one comparable figure: a simple (not compounded) annual rate.

Understood forms (on normalised text, see bot.textnorm): 年化18%, 年息一分, 月息2分, 一分五的利息, 月利率三分,
日息千分之五, 周收益5%, 90天收益8%, 一天两个点; payouts against a deposit (存1000每天返十元, 投8000一年返三千,
拿五万块放进去每个月就给你七百五, 一万块一周五百); lump sums after a span or an event (投入1000元7天后拿回1300元,
解冻后返还200万); multiples (一年翻倍, 十五天拿一点五倍, 三年后升值五倍, 涨了一倍); growth (一万变三万) and
price rises (每股一块五 … 挂牌以后少说十块, 99元一个 … 能卖300), read in bot.riskcheck.growth. The deposit of a
payout is the nearest amount after an invest verb (投, 存, 充值 …), else the nearest sum of money, else the nearest
bare figure; an income (退休金每个月到账三千二) is no yield. Numerals: bot.riskcheck.numerals.

Simple interest (a day ×365, a week ×52, a month ×12, N days ×365/N); rates are fractions (0.18 = 18% a year).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.riskcheck.growth import growth_hits, multiple_hits
from bot.riskcheck.money import MONEY_AMOUNT, amounts_in
from bot.riskcheck.numerals import AFTER_AMOUNT, CN_CHARS, CN_NUM, NUM, is_money, parse_number
from bot.riskcheck.periods import (
    DAYS,
    PERIOD_RE,
    PERIODS_PER_YEAR,
    RateHit,
    clause_bounds,
    period_near,
    sentence_bounds,
    with_period,
)

_YIELD_WORD = re.compile(
    r"收益|回报|利息|利率|息|返|分红|年化|赚|红利|派息|租金|溢价|加价|盈利|利润|补贴|回馈|增值|升值|本金再?加|回购|分成|保底|"
    r"报酬"
)

_FD = r"(?P<{}>[一二三四五六七八九\d](?![\d.万千百元块]))?"  # 一分五 = 1.5 分
_PCT = re.compile(
    rf"百分之\s*(?P<p100>{NUM})|千分之\s*(?P<p1000>{NUM})|万分之\s*(?P<p10000>{NUM})"
    rf"|(?P<pct>{NUM})\s*(?P<pt>%|个点)"
    rf"|(?:(?P<kw>月利率|年利率|日利率|月息|年息|日息|月利|年利|日利|利息)\s*)(?P<fen>{NUM})\s*(?P<unit>分|厘){_FD.format('fd')}(?!之)"
    rf"|(?P<fen2>{NUM})\s*(?P<unit2>分|厘){_FD.format('fd2')}\s*(?:的|给|算|付)?\s*(?:利|息)"
    rf"|(?:赚|收益|回报|利润|分红|返|涨|加价|加|年息|年利|利息|月息|分|多给|多拿|多)\s*(?:了|到|是)?\s*"
    rf"(?P<cheng>{NUM})\s*成(?![本员功立为交人年])"
    r"|(?P<kw2>日息|日利|日化|日收益|月息|月利)\s*千(?P<pm>[一二两三四五六七八九\d](?:点[一二三四五六七八九\d])?)(?![百十万分])"
    rf"|(?P<kw3>年息|年利|年回报|年收益|年化)\s*(?P<bare>{NUM})(?![\d.]|\s*(?:分|厘|元|块|万|千|百|个|年|月|天|%))"
)
_PER = (r"每天|每日|天天|一天|日日|每个?(?:周|星期)[一二三四五六日天末]?|一周|每个?月|月月|一个月|每个?季度?|每年|一年|"
        r"年底|年终|(?:年|月|日)(?=返|分红|收益|利息|息)")
_STRONG_VERB = (r"返利|返还|返现|返息|返|分红|分钱|分|收益|利息|回报|回馈|赚|到账|进账|入账|补贴|租金|红利|产出|产|"
                r"挖出|挖|出币|派息|配息|付息|结息")
_VERB = rf"(?P<verb>{_STRONG_VERB}|领取|领|拿到|拿|得到|得|给|发|到手|有|出|收|赠送|送|打款|打)"
_GAP = r"[^\d,。;!?:之%]"
_MONEY_UNIT = r"\s*(?:元|块钱|块|rmb|万元)?"
_PAYOUT = re.compile(
    rf"(?P<per>{_PER})(?!\s*(?:后|以后|之后|内|到期|期满|前)){_GAP}{{0,8}}?{_VERB}{_GAP}{{0,4}}?(?P<amt>{NUM}){AFTER_AMOUNT}{_MONEY_UNIT}"
    rf"|(?:收益|利息|分红|返利|回报)\s*(?P<per2>每天|每日|每周|每月|每个月|每年)\s*"
    rf"(?P<amt2>{NUM}){AFTER_AMOUNT}{_MONEY_UNIT}"
)
_PAIR = re.compile(  # 一万块一周五百, 十万一年两万: deposit, period, payout side by side
    rf"(?P<dep>{NUM})\s*(?P<u>元|块钱|块|万元)?\s*(?P<per>一天|每天|一周|每周|一个星期|一个月|每个?月|一年|每年)"
    rf"\s*(?:就|能|可以|可)?\s*(?:涨|赚|挣|多|出)?\s*(?P<amt>{NUM}){AFTER_AMOUNT}"
)
_LUMP = re.compile(
    rf"(?P<n>{NUM}|半)\s*(?:个)?\s*(?P<u>小时|天|日|周|星期|个月|月|年)\s*,?\s*(?:(?:以后|后|内|之后|到期|期满|出局)[^。;!?]{{0,14}}?)?"
    r"(?:就|就能|能|可以|可|会|再)?(?P<v>还(?=[你您给\d一二两三四五六七八九十])|拿回|收回|返还|退还|到手|变成|变|收到|获得|可得|得到|领取|回来|到账|连本带利|收益|回报|利息|分红|赚|返|拿到|拿|领回|领|涨到|涨成)"
    rf"(?:(?P<plus>本金再?加上?)|[^\d,。;!?]{{0,3}}?)(?P<amt>{NUM}){AFTER_AMOUNT}\s*(?:元|块钱|块|万元|万)?"
)
_EVENT = re.compile(
    r"(?:后|以后|之后|期末|年底|年末|出栏|到期|期满|收获)[^\d,。;!?]{0,6}?(?P<v>拿回|收回|返还|退还|到手|收到|获得|可得|得到|领取|领回|领|回来|到账|返|回馈|涨到|涨成|还(?=[你您俺我给\d一二两三四五六七八九十])|给(?:他|她|你|您|俺|我)?)"
    rf"[^\d,。;!?]{{0,3}}?(?P<amt>{NUM}){AFTER_AMOUNT}\s*(?P<u>元|块钱|块|万元|万)?"
)
_SWAP = re.compile(  # 捐一万返两万, 投五千还你八千: paid in, paid back more (a year when no period is said)
    rf"(?P<sv>投|存|捐|交|充值|充|买|入股|放进去|放)(?:满|了|个)?\s*(?P<dep>{NUM})\s*(?P<u>元|块钱|块|万元)?[^\d,。;!?:%]{{0,3}}?"
    rf"(?:返还|返|还给你|还你|还您|还|给你|给您|变成|变|拿回|收回|退)(?:他|她|你|您|俺|我)?\s*(?P<amt>{NUM}){AFTER_AMOUNT}\s*(?:元|块钱|块|万元)?"
)
_PAID_IN = frozenset({"投", "存", "捐", "充值", "充"})  # 充一百返一百五: what follows these is money, unit or not
_TOTAL_VERBS = frozenset({"拿回", "收回", "返还", "退还", "到手", "变成", "变", "收到", "回来", "到账", "连本带利",
                          "领回", "涨到", "涨成"})
_REPAY_VERBS = frozenset({"拿回", "收回", "返还", "退还", "连本带利", "返", "回来"})  # the stake said paid back
_PAYBACK = re.compile(  # 三个月回本: the whole stake back in that time, 100% over it
    rf"(?P<n>{NUM}|半)\s*(?:个)?\s*(?P<u>天|周|个月|月|年)\s*(?:就|就能|就可以|能|可以|即可)?\s*(?:回本|收回成本)"
)
_FLOOR = re.compile(  # 一股五千保底分一千: a guaranteed payout with no period is a year's
    rf"(?:保底|固定|每股|一股)\s*(?:每年|一年)?\s*(?:分红|分|返|给|拿)\s*(?P<amt>{NUM}){AFTER_AMOUNT}"
)
_PRINCIPAL = re.compile(
    r"(?:投资|投入|投了|投|存入|存进|存了|存|充值|充了|充|交了|交|缴纳|缴|入股|认购|购买|买了|买|拿出|放进|放了|"
    r"起投|本金|加盟费|花了|捐款|捐助|捐|出资|出了|出|打款|打了|转了|押|只要|只需|仅需|借给|借出|出借|放|入社|入会|入伙|"
    r"每份|一份|一股|每股|一张|一台|每台|一套|一手|一亩|每亩|会员费|入会费|入社费|股金)[^\d,。;!?:之%]{0,4}?"
    rf"(?P<a>{NUM}){AFTER_AMOUNT}\s*(?:元|块钱|块|万元)?"
    rf"|(?P<b>{NUM})\s*(?:元|块钱|块|万元)?\s*(?:的)?\s*(?:本金|投进去|存进去|放进去|投资进去|投进来|放进来|拿进来|进来|进去)"
)
_INCOME = re.compile(r"退休金|养老金|退休工资|工资|薪水|薪资|生活费|低保|抚恤金|奖学金|助学金|补助|零花钱|房租|年终奖")
# what a pitch calls its payout (投入1万元，每月领养老金800元): an income only when nothing was paid in before it
_PAYOUT_AS_INCOME = re.compile(r"养老金|生活费|补助")
_GIVEN = re.compile(r"(?:给|发)(?:你|您)?\s*$")
_YEARLY = re.compile(r"(?:每年|一年|每个?月|每天)(?:都|能|有|可以|就)?\s*$")


def _percent_hits(text: str) -> list[RateHit]:
    hits = []
    for m in _PCT.finditer(text):
        g = m.groupdict()
        key = next(k for k in ("p100", "pct", "p1000", "p10000", "fen", "fen2", "pm", "bare", "cheng") if g[k])
        value = (parse_number(g[key]) or 0.0) / {"p1000": 10, "p10000": 100, "pm": 10, "cheng": 0.1}.get(key, 1)
        tenth = g["fd"] or g["fd2"]
        value += (parse_number(tenth) or 0.0) / 10 if tenth else 0.0
        if not value:
            continue
        near = period_near(text, m.start(), m.end())
        period, per_year, strong = near.name, near.per_year, near.strong or bool(g["fen"] or g["fen2"] or g["pm"]
                                                                                 or g["bare"] or g["cheng"])
        if key == "bare" and not 1 <= value <= 60:
            continue  # 年息十五 is 15%; 年息三 or 年息三千 is no percentage
        kw = g["kw"] or g["kw2"] or g["kw3"]  # 日息千三 = 千分之三 a day; 年息十五 = 15% a year
        if kw:
            period = {"月": "month", "年": "year", "日": "day"}.get(kw[0], period)
            per_year = PERIODS_PER_YEAR.get(period or "year", per_year)
        lo, hi = clause_bounds(text, m.start(), m.end(), 12, 8)
        beside = near.dist <= 4 and (near.name in ("day", "week", "month")
                                     or (g["pt"] == "个点" and near.name == "year"))  # 一年12个点
        given = _GIVEN.search(text, max(0, m.start() - 3), m.start()) is not None  # 一年给百分之二十
        given = given or _YEARLY.search(text, max(0, m.start() - 5), m.start()) is not None  # 存三年每年12%
        if not strong and not beside and not given and not _YIELD_WORD.search(text, lo, hi):
            continue  # 打8折, 占比30%: a percentage, not a yield
        if g["fen"] or g["fen2"]:  # 分 is 10% a year, 1% a month, 0.1% a day; 厘 a tenth of that
            period = period if period in ("year", "day") else "month"
            per_year = PERIODS_PER_YEAR[period]
            value *= {"year": 10.0, "month": 1.0, "day": 0.1}[period]
            if (g["unit"] or g["unit2"]) == "厘":
                value /= 10
        start, end = with_period(text, near, m.start(), m.end())
        hits.append(RateHit(value / 100 * per_year, start, end, period or "year", "percent"))
    return hits


_BARE = re.compile(rf"(?<![\d.*])(?P<a>\d{{3,7}}(?![\d*])|(?=[{CN_CHARS}]*[千万])(?:{CN_NUM})){AFTER_AMOUNT}")


def _principal(principals: list[tuple[int, int, float]], amounts: list[tuple[int, int, float]],
               start: int, end: int, above: float, bare: Sequence[tuple[int, int, float]] = ()) -> float | None:
    """The deposit a payout is paid on: the nearest invest-verb amount, else the nearest sum of money,
    else the nearest bare figure of three digits or more (一块板子3600)."""
    for pool in (principals, amounts, bare):
        cands = [p for p in pool if p[2] > above and (p[1] <= start or p[0] >= end)]
        if cands:
            near = min(cands, key=lambda p: start - p[1] if p[1] <= start else 3 * (p[0] - end))
            return near[2]
    return None


def _period_of(word: str) -> str:
    period = next((per for rx, per, _ in PERIOD_RE if rx.fullmatch(word)), None)
    return period or {"年": "year", "月": "month", "日": "day"}.get(word[-1], "year")


def _payout_hits(text: str) -> list[RateHit]:
    principals = amounts_in(_PRINCIPAL, text, ("a", "b"))
    amounts = amounts_in(MONEY_AMOUNT, text, ("a",), money_only=True)
    bare = amounts_in(_BARE, text, ("a",))
    hits = []
    for m in _PAYOUT.finditer(text):
        amount = parse_number(m.group("amt") or m.group("amt2"))
        lo, hi = clause_bounds(text, m.start(), m.end(), 10, 4)
        income = _INCOME.search(text, lo, hi)
        if income and _PAYOUT_AS_INCOME.fullmatch(income.group()):
            s_lo = sentence_bounds(text, m.start(), m.end())[0]
            income = None if any(s_lo <= p[0] and p[1] <= m.start() for p in principals) else income
        if not amount or income:
            continue  # 退休金每个月到账三千二: an income, not a yield
        period = _period_of(m.group("per") or m.group("per2"))
        # a yearly payout may exceed its deposit (一万块一年返一万二); a daily one may not
        above = amount / 5 if period == "year" else amount
        deposit = _principal(principals, amounts, m.start(), m.end(), above, bare)
        annual = amount / deposit * PERIODS_PER_YEAR[period] if deposit else None
        strong = m.group("per2") is not None or re.fullmatch(_STRONG_VERB, m.group("verb")) is not None
        hits.append(RateHit(annual, m.start(), m.end(), period, "payout", strong))
    for m in _PAIR.finditer(text):
        dep, amount = parse_number(m.group("dep")), parse_number(m.group("amt"))
        if dep and amount and amount < dep and is_money(m.group("dep"), m.group("u")):
            period = _period_of(m.group("per"))
            hits.append(RateHit(amount / dep * PERIODS_PER_YEAR[period], m.start(), m.end(), period, "payout"))
    return hits + _lump_hits(text, principals, amounts, bare)


def _lump_hits(text: str, principals: list[tuple[int, int, float]], amounts: list[tuple[int, int, float]],
               bare: list[tuple[int, int, float]]) -> list[RateHit]:
    """Sums paid back after a span or an event, swaps (捐一万返两万), paybacks (三个月回本), floors."""
    hits = []
    for m in _LUMP.finditer(text):
        amount, count = parse_number(m.group("amt")), 0.5 if m.group("n") == "半" else parse_number(m.group("n"))
        if not amount or not count:
            continue
        deposit = _principal(principals, amounts, m.start(), m.end(), 0.0)
        # 捐一千半年以后返一千五, 七天以后拿一千二: more than was paid in is the whole sum paid back
        total = not m.group("plus") and (m.group("v") in _TOTAL_VERBS or (
            m.group("v") in ("返", "拿", "拿到", "还", "领") and bool(deposit) and amount > (deposit or 0)))
        if not deposit or (total and amount <= deposit):
            continue
        gain = (amount - deposit if total else amount) / deposit
        annual = gain * 365 / (count * DAYS[m.group("u")])
        hits.append(RateHit(annual, m.start(), m.end(), "span", "lump", True, total and m.group("v") in _REPAY_VERBS))
    for m in _SWAP.finditer(text):
        dep, amount = parse_number(m.group("dep")), parse_number(m.group("amt"))
        paid = m.group("sv") in _PAID_IN or is_money(m.group("dep"), m.group("u")) or "万" in m.group("amt")
        if dep and amount and amount > dep and paid:
            near = period_near(text, m.start(), m.end())
            per_year = near.per_year if near.name in ("span", "year") else 1.0
            hits.append(RateHit((amount / dep - 1) * per_year, m.start(), m.end(), "year", "lump", True, True))
    for m in _PAYBACK.finditer(text):
        count = 0.5 if m.group("n") == "半" else parse_number(m.group("n"))
        if count:
            hits.append(RateHit(365 / (count * DAYS[m.group("u")]), m.start(), m.end(), "span", "lump"))
    for m in _FLOOR.finditer(text):
        amount = parse_number(m.group("amt"))
        deposit = _principal(principals, amounts, m.start(), m.end(), amount or 0.0, bare) if amount else None
        if amount and deposit and not period_near(text, m.start(), m.end()).name:
            hits.append(RateHit(amount / deposit, m.start(), m.end(), "year", "payout", True))
    for m in _EVENT.finditer(text):  # a sum paid back after an event, no period said: over one year
        amount, deposit = parse_number(m.group("amt")), _principal(principals, amounts, m.start(), m.end(), 0.0)
        money = amount and deposit and (is_money(m.group("amt"), m.group("u")) or amount < deposit * 10)  # no unit
        if amount and deposit and amount > deposit and money:
            repays = m.group("v") in _REPAY_VERBS
            hits.append(RateHit(amount / deposit - 1, m.start(), m.end(), "year", "lump", True, repays))
    return hits


def find_rates(text: str) -> list[RateHit]:
    """Every yield stated in a normalised text, in text order."""
    out: list[RateHit] = []
    for find in (_percent_hits, _payout_hits, multiple_hits, growth_hits):  # the surest reading first
        for h in sorted(find(text), key=lambda h: (h.start, -h.end)):
            # a span already read as one form is not read again as another
            if not any(o.start <= h.start < o.end or h.start <= o.start < h.end for o in out):
                out.append(h)
    return sorted(out, key=lambda h: (h.start, -h.end))
