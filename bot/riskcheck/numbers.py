"""Yields stated in a pitch, turned into one comparable figure: a simple (not compounded) annual rate.

Understood forms (on normalised text, see bot.textnorm): 年化18%, 年息一分, 月息2分, 一分五的利息, 月利率三分,
日息千分之五, 周收益5%, 90天收益8%, 一天两个点; payouts against a deposit (存1000每天返十元, 投8000一年返三千,
拿五万块放进去每个月就给你七百五, 一万块一周五百); lump sums after a span or an event (投入1000元7天后拿回1300元,
解冻后返还200万); multiples (一年翻倍, 十五天拿一点五倍, 三年后升值五倍, 涨了一倍); growth (一万变三万) and
price rises (每股一块五 … 挂牌以后少说十块, 99元一个 … 能卖300). Chinese numerals are understood (十, 两, 三千,
1.5万, 两万五, 一千零五, 千分之五, 百分之二十; 五万一年 is 五万 + 一年). The deposit of a payout is the nearest
amount after an invest verb (投, 存, 充值 …), else the nearest sum of money, else the nearest bare figure.
An income (退休金每个月到账三千二) is no yield.

Annualisation is simple interest: a daily rate ×365, a weekly rate ×52, a monthly rate ×12, a rate
over N days ×365/N; a multiple of M over T years is (M-1)/T a year (one year when no period is said).
Rates are fractions: 0.18 means 18% a year.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_DIGIT = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
_UNIT = {"十": 10, "百": 100, "千": 1000}
_BIG = (("亿", 1e8), ("万", 1e4))
_CN = "零〇一二两三四五六七八九十百千万亿点"
_CN_D = "一二两三四五六七八九"
# after 千/万/亿 a lone digit is a tenth of the unit (两万五 = 25000) unless a count follows: 五万一年 is
# 五万 + 一年, 两千一饼 is 2000 a cake; after 十/百 it is the units digit (十五天)
_NOT_TAIL = "(?![年月天日周星个次倍岁号期份人名位代层款饼张套股])"  # a count follows
_TAIL = rf"(?:(?<=[十百])[零〇]?[{_CN_D}]|(?<=[千万亿])[零〇]?[{_CN_D}]{_NOT_TAIL})?"
_CN_NUM = (  # bounded repeats: a run of numerals costs linear time
    rf"(?:(?:[零〇]?[{_CN_D}]?[十百千万亿]){{1,10}}{_TAIL}|[{_CN_D}])(?:点[零〇{_CN_D}]{{1,6}})?"
)
NUM = rf"(?>\d{{1,12}}(?:\.\d{{1,6}})?(?:\s*(?:百万|千万|万|千|百|亿|w|k)(?:\d(?![\d.]))?)?|{_CN_NUM})"
_AFTER_AMOUNT = (  # not an amount of money when a percent, a period or a count follows
    r"(?!\s*(?:%|个点|分|厘|倍|成|次|个|人|天|日|周|月|年|岁|号|点|期|位|名|份|款|层|代|股|枚|张|套|台|亩|棵|"
    r"头|只|间|克|斤|瓶|盒|箱|袋|桶))"
)

_DAYS = {"小时": 1 / 24, "天": 1, "日": 1, "周": 7, "星期": 7, "礼拜": 7, "个月": 365 / 12, "月": 365 / 12, "年": 365}
PERIODS_PER_YEAR = {"day": 365.0, "week": 52.0, "month": 12.0, "quarter": 4.0, "year": 1.0}
_PERIOD_WORDS = [  # (regex, period, is it a yield word by itself)
    (r"年化|年息|年利|年收益|年回报|年分红|年租金|年返", "year", True),
    (r"每年|一年|年均|全年|年底|年终", "year", False),
    (r"季息|季收益|季度收益|季度分红", "quarter", True), (r"每个?季度?|一个季度|按季", "quarter", False),
    (r"月息|月利|月化|月收益|月回报|月分红|月返", "month", True), (r"每个?月|月月|一个月|按月|月底", "month", False),
    (r"周息|周化|周收益|周回报|周返", "week", True),
    (r"每个?(?:周|星期|礼拜)[一二三四五六日天末]?|一周|一个?星期|一个?礼拜|周周", "week", False),
    (r"日息|日利|日化|日收益|日回报|日分红|日返", "day", True), (r"每天|每日|天天|一天|按天|日日", "day", False),
]
_PERIOD_RE = [(re.compile(p), per, strong) for p, per, strong in _PERIOD_WORDS]
_SPAN_RE = re.compile(rf"({NUM}|半)\s*(个)?\s*(小时|天|日|周|星期|礼拜|个月|月|年)(?![期代级前底初末龄度纪])")
_YIELD_WORD = re.compile(
    r"收益|回报|利息|利率|息|返|分红|年化|赚|红利|派息|租金|溢价|加价|盈利|利润|补贴|回馈|增值|升值|本金加|回购"
)
_CLAUSE_END = frozenset(",;:!?。，；：！？")

_FD = r"(?P<{}>[一二三四五六七八九\d](?![\d.万千百元块]))?"  # 一分五 = 1.5 分
_PCT = re.compile(
    rf"百分之\s*(?P<p100>{NUM})|千分之\s*(?P<p1000>{NUM})|万分之\s*(?P<p10000>{NUM})"
    rf"|(?P<pct>{NUM})\s*(?P<pt>%|个点)"
    rf"|(?:(?P<kw>月利率|年利率|日利率|月息|年息|日息|月利|年利|日利|利息)\s*)(?P<fen>{NUM})\s*(?P<unit>分|厘){_FD.format('fd')}(?!之)"
    rf"|(?P<fen2>{NUM})\s*(?P<unit2>分|厘){_FD.format('fd2')}\s*(?:的)?\s*(?:利|息)"
    r"|(?P<kw2>日息|日利|日化|日收益|月息|月利)\s*千(?P<pm>[一二两三四五六七八九\d](?:点[一二三四五六七八九\d])?)(?![百十万分])"
    rf"|(?P<kw3>年息|年利|年回报|年收益)\s*(?P<bare>{NUM})(?![\d.]|\s*(?:分|厘|元|块|万|千|百|个|年|月|天|%))"
)
_PER = (r"每天|每日|天天|一天|日日|每个?(?:周|星期)[一二三四五六日天末]?|一周|每个?月|月月|一个月|每个?季度?|每年|一年|"
        r"年底|年终|(?:年|月|日)(?=返|分红|收益|利息|息)")
_STRONG_VERB = (r"返利|返还|返现|返息|返|分红|分钱|分|收益|利息|回报|赚|到账|进账|入账|补贴|租金|红利|产出|产|挖出|挖|"
                r"出币|派息|付息|结息")
_VERB = rf"(?P<verb>{_STRONG_VERB}|领取|领|拿到|拿|得到|得|给|发|到手|有|出|收|赠送|送)"
_GAP = r"[^\d,。;!?:之%]"
_MONEY_UNIT = r"\s*(?:元|块钱|块|rmb|万元)?"
_PAYOUT = re.compile(
    rf"(?P<per>{_PER})(?!\s*(?:后|以后|之后|内|到期|期满|前)){_GAP}{{0,8}}?{_VERB}{_GAP}{{0,4}}?(?P<amt>{NUM}){_AFTER_AMOUNT}{_MONEY_UNIT}"
    rf"|(?:收益|利息|分红|返利|回报)\s*(?P<per2>每天|每日|每周|每月|每个月|每年)\s*"
    rf"(?P<amt2>{NUM}){_AFTER_AMOUNT}{_MONEY_UNIT}"
)
_PAIR = re.compile(  # 一万块一周五百, 十万一年两万: deposit, period, payout side by side
    rf"(?P<dep>{NUM})\s*(?P<u>元|块钱|块|万元)?\s*(?P<per>一天|每天|一周|每周|一个星期|一个月|每个?月|一年|每年)"
    rf"\s*(?:就|能|可以|可)?\s*(?P<amt>{NUM}){_AFTER_AMOUNT}"
)
_LUMP = re.compile(
    rf"(?P<n>{NUM}|半)\s*(?:个)?\s*(?P<u>小时|天|日|周|星期|个月|月|年)\s*,?\s*(?:(?:以后|后|内|之后|到期|期满|出局)[^。;!?]{{0,14}}?)?"
    r"(?P<v>拿回|收回|返还|退还|到手|变成|收到|获得|可得|得到|领取|回来|到账|连本带利|收益|回报|利息|分红|赚|返|拿到|拿)"
    rf"[^\d,。;!?]{{0,3}}?(?P<amt>{NUM}){_AFTER_AMOUNT}\s*(?:元|块钱|块|万元|万)?"
)
_EVENT = re.compile(
    r"(?:后|以后|之后)[^\d,。;!?]{0,6}?(?P<v>拿回|收回|返还|退还|到手|收到|获得|可得|得到|领取|回来|到账|返|回馈)"
    rf"[^\d,。;!?]{{0,3}}?(?P<amt>{NUM}){_AFTER_AMOUNT}\s*(?P<u>元|块钱|块|万元|万)?"
)
_SWAP = re.compile(  # 捐一万返两万, 投五千还你八千: paid in, paid back more (a year when no period is said)
    rf"(?:投|存|捐|交|充值|充|买|入股|放进去|放)(?:满|了|个)?\s*(?P<dep>{NUM})\s*(?P<u>元|块钱|块|万元)?[^\d,。;!?:%]{{0,3}}?"
    rf"(?:返还|返|还给你|还你|还您|还|给你|给您|变成|变|拿回|收回|退)(?:他|她|你|您|俺|我)?\s*(?P<amt>{NUM}){_AFTER_AMOUNT}\s*(?:元|块钱|块|万元)?"
)
_TOTAL_VERBS = frozenset({"拿回", "收回", "返还", "退还", "到手", "变成", "收到", "回来", "到账", "连本带利"})
_PAYBACK = re.compile(  # 三个月回本: the whole stake back in that time, 100% over it
    rf"(?P<n>{NUM}|半)\s*(?:个)?\s*(?P<u>天|周|个月|月|年)\s*(?:就|就能|就可以|能|可以|即可)?\s*(?:回本|收回成本)"
)
_FLOOR = re.compile(  # 一股五千保底分一千: a guaranteed payout with no period is a year's
    rf"(?:保底|固定|每股|一股)\s*(?:每年|一年)?\s*(?:分红|分|返|给|拿)\s*(?P<amt>{NUM}){_AFTER_AMOUNT}"
)
_PRINCIPAL = re.compile(
    r"(?:投资|投入|投了|投|存入|存进|存了|存|充值|充了|充|交了|交|缴纳|缴|入股|认购|购买|买了|买|拿出|放进|放了|"
    r"起投|本金|加盟费|花了|捐款|捐助|捐|出资|出了|出|打款|打了|转了|押|只要|只需|仅需)[^\d,。;!?:之%]{0,4}?"
    rf"(?P<a>{NUM}){_AFTER_AMOUNT}\s*(?:元|块钱|块|万元)?"
    rf"|(?P<b>{NUM})\s*(?:元|块钱|块|万元)?\s*(?:的)?\s*(?:本金|投进去|存进去|放进去|投资进去|投进来|放进来|拿进来|进来|进去)"
)
_MONEY_AMOUNT = re.compile(rf"(?P<a>{NUM})(?P<u>\s*(?:元|块钱|块|万元|万))?")
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
    rf"(?P<a>{NUM})\s*(?P<ua>元|块钱|块|万元|万|u)?[^\d。;!?{_CN}]{{0,16}}?(?:变成|变为|变|滚成|涨到|翻到|升到|能值|值|就是|已经有|账户里有|成了|给你|还你|还给你|给您|还您)"
    rf"\s*(?P<b>{NUM})\s*(?P<ub>元|块钱|块|万元|万|u)?"
)
_PRICE = re.compile(  # 每股1.5元 … 上市后至少十块; 99元一个 … 最低能卖300
    rf"(?:(?:每股|一股|认购价|发行价|现价|私募价|发售价|售价|现在|只要)[^\d,。;!?{_CN}]{{0,3}}?(?P<a>{NUM})"
    rf"\s*(?:元|块(?P<jiao>[一二三四五六七八九](?![十百千万亿点]))?|u)?(?:\s*(?:一股|每股|一份|一枚|一个))?"
    rf"|(?P<a2>{NUM})\s*(?:元|块钱|块|u)\s*(?:一股|每股|一份|一枚|一个|一张|一套|一饼|每份|每个))"
    rf"[^。;!?]{{0,24}}?(?:上市|挂牌|上所|上线|交易所|以后|之后|后|能卖|可卖|卖到|能值|值|涨到)[^\d。;!?]{{0,8}}?"
    rf"(?P<b>{NUM})\s*(?:元|块|u|美金)?"
)
_INCOME = re.compile(r"退休金|养老金|退休工资|工资|薪水|薪资|生活费|低保|抚恤金|奖学金|助学金|补助|零花钱|房租|年终奖")
# what a pitch calls its payout (投入1万元，每月领养老金800元): an income only when nothing was paid in before it
_PAYOUT_AS_INCOME = re.compile(r"养老金|生活费|补助")
_GIVEN = re.compile(r"(?:给|发)(?:你|您)?\s*$")


@dataclass(frozen=True)
class RateHit:
    annual: float | None  # fraction a year, simple interest; None for a payout without a known deposit
    start: int            # span in the normalised text
    end: int
    period: str           # day / week / month / quarter / year, or "span" for N days / months
    kind: str             # percent / payout / lump / multiple / growth / price
    strong: bool = True   # said with a yield word (返, 分红, 利息 …), not a bare 给 / 发 / 有
    repays: bool = False  # pays back more than the deposit itself (一年后返还2400元 on 2000): principal promised


def _section(s: str) -> float:
    """A number below 万: 三千五, 一百二十, 一千零五, 2.5, 十二, 一点五."""
    if re.fullmatch(r"\d+(?:\.\d+)?", s):
        return float(s)
    if "点" in s:
        whole, _, frac = s.partition("点")
        digits = "".join(str(_DIGIT[c]) for c in frac if c in _DIGIT)
        return (_section(whole) if whole else 0.0) + (float("0." + digits) if digits else 0.0)
    total, cur, last_unit, after_unit = 0.0, None, 0, False
    for ch in s:
        if ch in _DIGIT or ch.isdigit():
            cur = float(_DIGIT.get(ch, ch))
            after_unit = after_unit and ch not in "零〇"
            if ch in "零〇":
                last_unit = 0
        elif ch in _UNIT:
            total += (cur if cur is not None else 1) * _UNIT[ch]
            cur, last_unit, after_unit = None, _UNIT[ch], True
        else:
            raise ValueError(s)
    if cur is not None:  # 三千五 = 3500, 一百五 = 150 (colloquial), 一千零五 = 1005
        total += cur * last_unit / 10 if after_unit and last_unit >= 100 else cur
    return total


def _whole(s: str) -> float:
    for big, value in _BIG:
        if big in s:  # 两万五 = 25000, 1万5 = 15000, 三万零五百 = 30500
            left, _, right = s.partition(big)
            single = right in _DIGIT or (len(right) == 1 and right.isdigit())
            tail = float(_DIGIT.get(right, right)) * value / 10 if single else _whole(right) if right else 0.0
            return (_whole(left) if left else 1.0) * value + tail
    return _section(s)


def parse_number(token: str) -> float | None:
    """A Chinese, Arabic or mixed numeral as a float: 十→10, 两→2, 三千→3000, 1.5万→15000, 十万→100000."""
    s = re.sub(r"\s+", "", token).replace("w", "万").replace("k", "千")
    try:
        return _whole(s) if s and re.fullmatch(rf"[\d.{_CN}]+", s) else None
    except (ValueError, KeyError):
        return None


def _clause_bounds(text: str, start: int, end: int, before: int, after: int) -> tuple[int, int]:
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


def _period_near(text: str, start: int, end: int) -> _Period:
    """The period word nearest to text[start:end], in the same clause."""
    lo, hi = _clause_bounds(text, start, end, 12, 8)
    best = _Period()
    for regex, period, strong in _PERIOD_RE:
        for m in regex.finditer(text, lo, hi):
            dist = _distance(m.start(), m.end(), start, end)
            if dist < best.dist:
                best = _Period(period, PERIODS_PER_YEAR[period], strong, m.start(), m.end(), dist)
    for m in _SPAN_RE.finditer(text, lo, hi):
        dist = _distance(m.start(), m.end(), start, end)
        count = 0.5 if m.group(1) == "半" else parse_number(m.group(1))
        if count and dist < best.dist:
            best = _Period("span", 365 / (count * _DAYS[m.group(3)]), False, m.start(), m.end(), dist)
    return best


def _with_period(text: str, p: _Period, start: int, end: int) -> tuple[int, int]:
    """The hit's span, grown to take in its period word when that is right beside it (年化18%)."""
    if p.name is None or p.dist > 3:
        return start, end
    lo = p.start - 1 if p.start > 0 and text[p.start - 1] == "每" else p.start
    return min(start, lo), max(end, p.end)


def _percent_hits(text: str) -> list[RateHit]:
    hits = []
    for m in _PCT.finditer(text):
        g = m.groupdict()
        key = next(k for k in ("p100", "pct", "p1000", "p10000", "fen", "fen2", "pm", "bare") if g[k])
        value = (parse_number(g[key]) or 0.0) / {"p1000": 10, "p10000": 100, "pm": 10}.get(key, 1)
        tenth = g["fd"] or g["fd2"]
        value += (parse_number(tenth) or 0.0) / 10 if tenth else 0.0
        if not value:
            continue
        near = _period_near(text, m.start(), m.end())
        period, per_year, strong = near.name, near.per_year, near.strong or bool(g["fen"] or g["fen2"] or g["pm"]
                                                                                 or g["bare"])
        if key == "bare" and not 1 <= value <= 60:
            continue  # 年息十五 is 15%; 年息三 or 年息三千 is no percentage
        kw = g["kw"] or g["kw2"] or g["kw3"]  # 日息千三 = 千分之三 a day; 年息十五 = 15% a year
        if kw:
            period = {"月": "month", "年": "year", "日": "day"}.get(kw[0], period)
            per_year = PERIODS_PER_YEAR.get(period or "year", per_year)
        lo, hi = _clause_bounds(text, m.start(), m.end(), 12, 8)
        beside = near.name in ("day", "week", "month") and near.dist <= 4  # 一天稳定两个点
        given = _GIVEN.search(text, max(0, m.start() - 3), m.start()) is not None  # 一年给百分之二十
        if not strong and not beside and not given and not _YIELD_WORD.search(text, lo, hi):
            continue  # 打8折, 占比30%: a percentage, not a yield
        if g["fen"] or g["fen2"]:  # 分 is 10% a year, 1% a month, 0.1% a day; 厘 a tenth of that
            period = period if period in ("year", "day") else "month"
            per_year = PERIODS_PER_YEAR[period]
            value *= {"year": 10.0, "month": 1.0, "day": 0.1}[period]
            if (g["unit"] or g["unit2"]) == "厘":
                value /= 10
        start, end = _with_period(text, near, m.start(), m.end())
        hits.append(RateHit(value / 100 * per_year, start, end, period or "year", "percent"))
    return hits


def _amounts(regex: re.Pattern[str], text: str, groups: tuple[str, ...],
             money_only: bool = False) -> list[tuple[int, int, float]]:
    out = []
    for m in regex.finditer(text):
        if money_only and not (m.group("u") or re.search("[万w]", m.group("a"))):
            continue  # a sum of money has a currency word or is counted in 万 (8万, 两万)
        for g in groups:
            if m.group(g):
                value = parse_number(m.group(g))
                if value:
                    out.append((m.start(), m.end(), value))
    return out


_BARE = re.compile(rf"(?<![\d.*])(?P<a>\d{{3,7}}(?![\d*])|(?=[{_CN}]*[千万])(?:{_CN_NUM})){_AFTER_AMOUNT}")


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
    period = next((per for rx, per, _ in _PERIOD_RE if rx.fullmatch(word)), None)
    return period or {"年": "year", "月": "month", "日": "day"}.get(word[-1], "year")


def _payout_hits(text: str) -> list[RateHit]:
    principals = _amounts(_PRINCIPAL, text, ("a", "b"))
    amounts = _amounts(_MONEY_AMOUNT, text, ("a",), money_only=True)
    bare = _amounts(_BARE, text, ("a",))
    hits = []
    for m in _PAYOUT.finditer(text):
        amount = parse_number(m.group("amt") or m.group("amt2"))
        lo, hi = _clause_bounds(text, m.start(), m.end(), 10, 4)
        income = _INCOME.search(text, lo, hi)
        if income and _PAYOUT_AS_INCOME.fullmatch(income.group()):
            s_lo = _sentence(text, m.start(), m.end())[0]
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
        if dep and amount and amount < dep and _is_money(m.group("dep"), m.group("u")):
            period = _period_of(m.group("per"))
            hits.append(RateHit(amount / dep * PERIODS_PER_YEAR[period], m.start(), m.end(), period, "payout"))
    for m in _LUMP.finditer(text):
        amount, count = parse_number(m.group("amt")), 0.5 if m.group("n") == "半" else parse_number(m.group("n"))
        if not amount or not count:
            continue
        deposit = _principal(principals, amounts, m.start(), m.end(), 0.0)
        # 捐一千半年以后返一千五, 七天以后拿一千二: more than was paid in is the whole sum paid back
        total = m.group("v") in _TOTAL_VERBS or (m.group("v") in ("返", "拿", "拿到") and bool(deposit)
                                                 and amount > (deposit or 0))
        if not deposit or (total and amount <= deposit):
            continue
        gain = (amount - deposit if total else amount) / deposit
        annual = gain * 365 / (count * _DAYS[m.group("u")])
        hits.append(RateHit(annual, m.start(), m.end(), "span", "lump", True, total))
    for m in _SWAP.finditer(text):
        dep, amount = parse_number(m.group("dep")), parse_number(m.group("amt"))
        if dep and amount and amount > dep and (_is_money(m.group("dep"), m.group("u")) or "万" in m.group("amt")):
            near = _period_near(text, m.start(), m.end())
            per_year = near.per_year if near.name in ("span", "year") else 1.0
            hits.append(RateHit((amount / dep - 1) * per_year, m.start(), m.end(), "year", "lump", True, True))
    for m in _PAYBACK.finditer(text):
        count = 0.5 if m.group("n") == "半" else parse_number(m.group("n"))
        if count:
            hits.append(RateHit(365 / (count * _DAYS[m.group("u")]), m.start(), m.end(), "span", "lump"))
    for m in _FLOOR.finditer(text):
        amount = parse_number(m.group("amt"))
        deposit = _principal(principals, amounts, m.start(), m.end(), amount or 0.0, bare) if amount else None
        if amount and deposit and not _period_near(text, m.start(), m.end()).name:
            hits.append(RateHit(amount / deposit, m.start(), m.end(), "year", "payout", True))
    for m in _EVENT.finditer(text):  # a sum paid back after an event, no period said: over one year
        amount = parse_number(m.group("amt"))
        deposit = _principal(principals, amounts, m.start(), m.end(), 0.0)
        if amount and deposit and amount > deposit and _is_money(m.group("amt"), m.group("u")):
            repays = m.group("v") in _TOTAL_VERBS
            hits.append(RateHit(amount / deposit - 1, m.start(), m.end(), "year", "lump", True, repays))
    return hits


def _sentence(text: str, start: int, end: int) -> tuple[int, int]:
    lo = max((text.rfind(c, 0, start) for c in "。!?;"), default=-1) + 1
    his = [i for i in (text.find(c, end) for c in "。!?;") if i >= 0]
    return lo, min(his, default=len(text))


def _multiple_hits(text: str) -> list[RateHit]:
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
        lo, hi = _sentence(text, m.start(), m.end())
        near = _period_near(text, m.start(), m.end())
        beside = near.name is not None and near.dist <= 1  # 半年翻倍: a period said right with it
        if total <= 1 or not (_MONEY_NEAR.search(text, lo, hi) or beside):
            continue
        if _MULT_NOT.search(text, max(lo, m.start() - 4), m.end()):
            continue  # 积分翻倍, 菜价翻倍: not money that grows
        start, end = _with_period(text, near, m.start(), m.end())
        hits.append(RateHit((total - 1) * near.per_year, start, end, near.name or "year", "multiple"))
    return hits


def _is_money(number: str, unit: str | None) -> bool:
    return bool(unit) or re.search("[万w]", number) is not None


def _growth_hits(text: str) -> list[RateHit]:
    """A sum that grows into a bigger one (一万变三万), or a price that rises after a listing (每股1.5元 …
    上市后至少十块): the multiple, over the period said nearby (one year when none is said)."""
    hits = []
    for regex, kind in ((_GROW, "growth"), (_PRICE, "price")):
        pos = 0
        while m := regex.search(text, pos):
            pos = m.start() + 1  # a rejected reading may hide a good one that starts inside it
            a = parse_number(m.group("a") or m.groupdict().get("a2") or "")
            if a and m.groupdict().get("jiao"):  # 一块五 = 1.5 元
                a += (parse_number(m.group("jiao")) or 0) / 10
            b = parse_number(m.group("b"))
            if not a or not b or b < a * 1.05:
                continue
            if kind == "growth" and not (
                _is_money(m.group("a"), m.group("ua")) and _is_money(m.group("b"), m.group("ub"))
            ):
                continue
            pos = m.end()
            near = _period_near(text, m.start("b"), m.end("b"))
            per_year = near.per_year if near.name in ("span", "year") else 1.0
            hits.append(RateHit((b / a - 1) * per_year, m.start(), m.end(), "year", kind))
    return hits


def has_money_amount(text: str, at_least: float = 1000) -> bool:
    """Whether the text names a sum of money of at least `at_least` (2000元, 8万, 五千块): the size of a
    deposit, not of a shopping price."""
    return any(a[2] >= at_least for a in _amounts(_MONEY_AMOUNT, text, ("a",), money_only=True))


def find_rates(text: str) -> list[RateHit]:
    """Every yield stated in a normalised text, in text order."""
    out: list[RateHit] = []
    for find in (_percent_hits, _payout_hits, _multiple_hits, _growth_hits):  # the surest reading first
        for h in sorted(find(text), key=lambda h: (h.start, -h.end)):
            # a span already read as one form is not read again as another
            if not any(o.start <= h.start < o.end or h.start <= o.start < h.end for o in out):
                out.append(h)
    return sorted(out, key=lambda h: (h.start, -h.end))
