"""What a tip's free text tells without reading it as a person would: amounts, head counts,
signs of flight, the sector. Used in the flow (slots typed early) and when filing (urgency)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from pydantic import BaseModel

from bot.textnorm import normalise

# 2022 judicial interpretation, art. 3: the prosecution thresholds for 非法吸收公众存款.
URGENT_AMOUNT = 1_000_000
URGENT_PARTICIPANTS = 150
FLIGHT_WORDS = ("跑路", "失联", "关门", "转移资产", "转移财产", "人去楼空", "联系不上", "卷款", "卷钱", "携款",
                "逃跑", "跑了", "不见人", "要跑", "清空", "搬空", "停止兑付", "兑付不了", "提不了现", "提不出")

_DIGIT = {"零": 0, "〇": 0, "一": 1, "幺": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "四": 4, "五": 5,
          "六": 6, "七": 7, "八": 8, "九": 9}
_SMALL = {"十": 10, "百": 100, "千": 1000}
_BIG = {"万": 10_000, "亿": 100_000_000}
_NUM = r"[0-9.]+|[零〇一幺二两俩三四五六七八九十百千]+"
_AMOUNT = re.compile(rf"({_NUM})\s*(多|来|余|几)?\s*([万亿]*)\s*(多|来|余)?\s*(元|块|块钱|万|亿)")
_PEOPLE = re.compile(rf"({_NUM})\s*(多|来|余|几)?\s*([万千百]*)\s*(多|来|余)?\s*(个人|人|户|家|位|名)")


def chinese_number(text: str) -> float | None:
    """'20' → 20, '1.5' → 1.5, '三千' → 3000, '十五' → 15, '两百' → 200; None if not a number."""
    if re.fullmatch(r"[0-9]+(\.[0-9]+)?", text):
        return float(text)
    total, current = 0, 0
    for ch in text:
        if ch in _DIGIT:
            current = _DIGIT[ch]
        elif ch in _SMALL:
            total += (current or 1) * _SMALL[ch]
            current = 0
        else:
            return None
    return float(total + current) if text else None


def _scale(units: str) -> int:
    factor = 1
    for u in units:
        factor *= _BIG.get(u, 1) * _SMALL.get(u, 1)
    return factor


_PEOPLE_WORD = re.compile(r"[人户家位名]")
_COUNTED = re.compile(r"[人户家位名个]")  # 二十多个 counts something: not money
_MONEY_WORD = re.compile(r"[元块钱万亿]")


def _yuan(m: re.Match[str]) -> int | None:
    """An _AMOUNT match in yuan: '二十多万' → 200000."""
    n = chinese_number(m.group(1))
    if n is None:
        return None
    return int(n * _scale(m.group(3) + (m.group(5) if m.group(5) in ("万", "亿") else "")))


def parse_amount(text: str) -> int | None:
    """The largest money amount in yuan named in a text: '大概二十多万' → 200000."""
    return max((v for m in _AMOUNT.finditer(normalise(text)) if (v := _yuan(m)) is not None), default=None)


def parse_participants(text: str) -> int | None:
    """A head count named in a text: '一百多个人' → 100, '三百户' → 300."""
    best = None
    for m in _PEOPLE.finditer(normalise(text)):
        n = chinese_number(m.group(1))
        if n is None:
            continue
        value = int(n * _scale(m.group(3)))
        best = value if best is None else max(best, value)
    return best


# a sum that is the size of the whole case, not the price of one share (入股一万 is what one person paid)
_TOTAL_CUE = re.compile(
    rf"(一共|总共|共计|合计|累计|总计|涉及|涉案|集资|吸收|骗了|骗走|卷走|卷了|圈了|收了|收走|投了?进去|"
    rf"全村|大伙|大家|好多人|上百人|几百人)[^,。;!?，；！？]{{0,6}}?({_NUM})\s*(多|来|余|几)?\s*([万亿]*)\s*(多|来|余)?\s*(元|块|块钱|万|亿)"
)
_SUFFIXES = ("公司", "合作社", "集团", "平台", "商城", "中心", "俱乐部", "养老院", "敬老院", "基金会", "基金", "协会",
             "工作室", "超市", "商行", "会所", "酒店", "门店", "店", "群", "项目", "app")
_SUBJECT = re.compile(  # 旬阳鑫农生态合作社, 鑫盛财富管理有限公司, 福满堂养老院, “惠民共富”平台
    r"[“\"「]?([\u4e00-\u9fa5A-Za-z0-9]{2,16}?(?:有限责任公司|股份有限公司|有限公司|公司|合作社|集团|平台|商城|中心|"
    r"俱乐部|养老院|敬老院|基金会|基金|协会|工作室|超市|商行|会所|酒店|门店|店|群|项目|APP|app))[”\"」]?"
)
# what comes before a name: a place, 有个 / 叫 / 的 … (cut at the last of them)
_BEFORE_NAME = re.compile(
    r"^.*(的|叫|名叫|有个|有家|一家|一个|这家|那家|这个|那个|了个|什么|举报|检举|反映|揭发|镇|乡|村|县|区|市|省|在)"
)
_QUOTED = re.compile(r"[“\"「『]([^”\"」』,。!?]{2,16})[”\"」』]")
_PER_PERSON = re.compile(r"(入股|一股|每股|存|投|交|买|充|起投|单份|每份|一份|每人|一人|花了|首付|总价)[^,。;!?]{0,3}$")
_GENERIC_SUFFIX = 2  # 这个群, 一个项目: at least this many characters before the suffix make a name


def parse_total_amount(text: str) -> int | None:
    """The sum of the whole case named in a story ("一共收了两百多万", "…，一百多万"); a price per share or one
    person's deposit ("入股一万", "存五万") is not it."""
    norm = normalise(text)

    def whole(m: re.Match[str]) -> bool:
        cued = _TOTAL_CUE.search(norm, max(0, m.start() - 12), m.end()) is not None
        return cued or not _PER_PERSON.search(norm, max(0, m.start() - 6), m.start())

    return max((v for m in _AMOUNT.finditer(norm) if whole(m) and (v := _yuan(m)) is not None), default=None)


def extract_subject(text: str) -> str | None:
    """The company, co-operative, shop or group a story names, without the place or words before it."""
    norm = normalise(text)
    quoted = _QUOTED.search(norm)
    if quoted:  # “惠民共富”: a scheme's own name
        return quoted.group(1)
    for m in _SUBJECT.finditer(norm):
        whole, suffix = m.group(1), m.group(1)
        for end in ("有限责任公司", "股份有限公司", "有限公司"):
            if whole.endswith(end):
                suffix = end
                break
        else:
            suffix = next(x for x in _SUFFIXES if whole.endswith(x))
        stem = _BEFORE_NAME.sub("", whole[: len(whole) - len(suffix)])
        if len(stem) >= _GENERIC_SUFFIX:
            return stem + suffix
    return None


def amount_answer(text: str) -> int | None:
    """The answer to "how much money": a bare number ("五千") is in yuan."""
    return parse_amount(text if "元" in text or "万" in text else text + "元")


def participants_answer(text: str) -> int | None:
    """The answer to "how many people": a bare number ("三十多") counts people."""
    return parse_participants(text if _PEOPLE_WORD.search(text) else text + "人")


def is_money_not_people(text: str) -> bool:
    """Money typed where a head count was asked ("三十万", "两百万块"): no people word, a money word."""
    return not _COUNTED.search(text) and _MONEY_WORD.search(text) is not None


def flight_signs(text: str) -> list[str]:
    norm = normalise(text)
    return [w for w in FLIGHT_WORDS if w in norm]


def is_urgent(amount: int | None, participants: int | None, texts: list[str]) -> bool:
    if amount is not None and amount >= URGENT_AMOUNT:
        return True
    if participants is not None and participants >= URGENT_PARTICIPANTS:
        return True
    return any(flight_signs(t) for t in texts if t)


class Category(BaseModel):
    code: str
    label: str
    words: list[str]
    not_in: list[str] = []      # texts in which a word of this category does not count ("数字人民币")

    def matches(self, norm: str) -> list[str]:
        """The words of this category found in a normalised text, outside its `not_in` contexts."""
        excluded = [(m.start(), m.end()) for c in self.not_in if c
                    for m in re.finditer(re.escape(normalise(c)), norm)]
        found = []
        for word in (normalise(w) for w in self.words):
            for m in re.finditer(re.escape(word), norm) if word else ():
                if not any(a <= m.start() and m.end() <= b for a, b in excluded):
                    found.append(word)
                    break
        return found


class Categories(BaseModel):
    categories: list[Category]
    ordinary: list[str] = []    # everyday sentences that must file as `other` (see tip_categories.yaml)

    @classmethod
    def load(cls, path: Path) -> Categories:
        return cls.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))

    def infer(self, *texts: str) -> str:
        norm = normalise(" ".join(t for t in texts if t))
        for cat in self.categories:
            if cat.matches(norm):
                return cat.code
        return "other"

    def ordinary_misfiled(self) -> list[str]:
        """Each ordinary sentence that a category's word catches: "sentence → code (words)"."""
        out = []
        for sentence in self.ordinary:
            norm = normalise(sentence)
            for cat in self.categories:
                if words := cat.matches(norm):
                    out.append(f"{sentence} → {cat.code} ({'、'.join(words)})")
                    break
        return out

    def label(self, code: str) -> str:
        return next((c.label for c in self.categories if c.code == code), code)
