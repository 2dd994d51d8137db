"""Chinese, Arabic and mixed numerals (十, 两, 三千, 1.5万, 两万五, 一千零五) as floats, and their pattern."""

from __future__ import annotations

import re

_DIGIT = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
_UNIT = {"十": 10, "百": 100, "千": 1000}
_BIG = (("亿", 1e8), ("万", 1e4))
CN_CHARS = "零〇一二两三四五六七八九十百千万亿点"
_CN_D = "一二两三四五六七八九"
# after 千/万/亿 a lone digit is a tenth of the unit (两万五 = 25000) unless a count follows: 五万一年 is
# 五万 + 一年, 两千一饼 is 2000 a cake; after 十/百 it is the units digit (十五天)
_NOT_TAIL = "(?![年月天日周星个次倍岁号期份人名位代层款饼张套股])"  # a count follows
_TAIL = rf"(?:(?<=[十百])[零〇]?[{_CN_D}]|(?<=[千万亿])[零〇]?[{_CN_D}]{_NOT_TAIL})?"
# a bare 十 (no digit before it) starts a number (十五, 十万) or follows 零 (一千零十); after 百/千/万 it starts a
# new one: 投一千十五天后 is 一千 + 十五天
_FIRST_STEP = rf"[零〇]?[{_CN_D}]?[十百千万亿]"
_NEXT_STEP = rf"(?:[零〇]?(?:[{_CN_D}]?[百千万亿]|[{_CN_D}]十)|[零〇]十)"
CN_NUM = (  # bounded repeats: a run of numerals costs linear time
    rf"(?:{_FIRST_STEP}(?:{_NEXT_STEP}){{0,9}}{_TAIL}|[{_CN_D}])(?:点[零〇{_CN_D}]{{1,6}})?"
)
NUM = rf"(?>\d{{1,12}}(?:\.\d{{1,6}})?(?:\s*(?:百万|千万|万|千|百|亿|w|k)(?:\d(?![\d.]))?)?|{CN_NUM})"
AFTER_AMOUNT = (  # not an amount of money when a percent, a period or a count follows (a space, where an emoji
    # was, parts a sum from the next clause: 每周返300🔥周周返)
    r"(?!\s*(?:%|个点)|(?:分(?!红)|厘|倍|成|次|个|人|天|日|周|月(?!底|初|末)|年(?!底|终|末|初)|岁|号|点|期|位|名|份|款|层|代|股|枚|张|套|台|亩|棵|"
    r"头|只|间|克|斤|瓶|盒|箱|袋|桶))"
)

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
        return _whole(s) if s and re.fullmatch(rf"[\d.{CN_CHARS}]+", s) else None
    except (ValueError, KeyError):
        return None


def is_money(number: str, unit: str | None) -> bool:
    return bool(unit) or re.search("[万w]", number) is not None
