"""Sums of money in a text: which figures are money (2000元, 8万, 五千块, 3000手续费), and whether a text names a
sum the size of a deposit."""

from __future__ import annotations

import re

from bot.riskcheck.numerals import NUM, parse_number

MONEY_AMOUNT = re.compile(rf"(?P<a>{NUM})(?P<u>\s*(?:元|块钱|块|万元|万))?")
# 每月缴五千, 交三千: a sum paid in is money, unit or not
_PAID_AMOUNT = re.compile(rf"(?P<u>交|缴|投|存|充值|充|付|花了|花|出资|捐)了?\s*(?P<a>{NUM})")
# 先交3000手续费: a sum named by what it pays for is money too, unit or not
_FEE_AMOUNT = re.compile(
    rf"(?P<a>{NUM})(?P<u>\s*的?(?:手续费|会员费|保证金|押金|定金|订金|入会费|入社费|加盟费|服务费|管理费|激活费|解冻费))"
)


def amounts_in(regex: re.Pattern[str], text: str, groups: tuple[str, ...],
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


def has_money_amount(text: str, at_least: float = 1000) -> bool:
    """Whether the text names a sum of money of at least `at_least` (2000元, 8万, 五千块): the size of a
    deposit, not of a shopping price."""
    regexes = (MONEY_AMOUNT, _FEE_AMOUNT, _PAID_AMOUNT)
    return any(a[2] >= at_least for rx in regexes for a in amounts_in(rx, text, ("a",), True))
