"""The words of a risk check: a short first screen, and the whole of it behind "更多".

First screens are short (a 70-year-old reads them on a phone, ≤ 200 characters): the verdict in one line,
up to three flags each with the words that raised it and the reason in a few words, the yield against what a
one-year deposit pays (content/red_flags.yaml `deposit_rate`, kept current by the office), one line of what to
do. A person's own story ("您说的这个…") and a pasted pitch ("【风险检查】结论：…") differ only in the first
line. The whole reply — every flag with its reason, the yield, what to do now, the legal basis — fits one
WeChat passive reply (2048 bytes of UTF-8).
"""

from __future__ import annotations

from functools import lru_cache

from bot.riskcheck.check import QUOTE_MAX, VERDICT_WORDS, WECHAT_PASSIVE_LIMIT, RiskReport
from bot.riskcheck.lexicon import DEFAULT_LEXICON, Lexicon

FIRST_SCREEN_FLAGS = 3
_HEAD = {
    "high": "您说的这个，是非法集资的典型说法，风险很高。",
    "caution": "您说的这个，有非法集资常用的说法，要当心。",
}
_PASTED_TAIL = {"high": "，很像非法集资的宣传。", "caution": "，里面有非法集资常用的说法。", "none": "。"}
_CLOSE = {
    "high": "千万别交钱，已交的别再追加。点“那怎么办”看下一步。",
    "caution": "先别交钱，问清是哪家机构、有没有金融牌照。",
}
_ACTIONS = (
    "现在请这样做：\n①{first}\n②不要拉亲友参加，介绍别人也可能要担责任；\n"
    "③留好证据：聊天截图、传单、合同、收据和转账记录；\n④举报：回复“我要举报”，可以匿名；情况紧急请打110。"
)
_FIRST = {"high": "不要交钱，已经交了的不要再追加；", "caution": "先别交钱，问清是哪家机构、有没有金融牌照；"}
_NONE_ADVICE = (
    "这不等于一定安全，只是没看到常见的危险说法。\n"
    "核实办法：投资理财只找银行、证券、保险等持牌金融机构；可以到国家金融监督管理总局、中国证监会网站"
    "或银行网点查询机构和产品是否合法。\n对方若要先交钱、承诺保本高息或让您拉人，请回复“我要举报”，紧急时打110。"
)
BASIS = (
    "【依据】《防范和处置非法集资条例》第二条：未经依法许可，以许诺还本付息或者给予回报等方式，向不特定对象"
    "吸收资金，就是非法集资。《最高人民法院关于审理非法集资刑事案件具体应用法律若干问题的解释》（2022年修正）"
    "第一条：非法性、公开性、利诱性、社会性四个特征同时具备的，认定为非法吸收公众存款。"
)


@lru_cache(maxsize=1)
def _default_lexicon() -> Lexicon:
    return Lexicon.load(DEFAULT_LEXICON)


def percent(rate: float) -> str:
    """0.12 → '12%', 0.085 → '8.5%', 0.0175 → '1.75%', 1.095 → '110%'."""
    value = rate * 100
    text = f"{value:.0f}" if value >= 100 else f"{value:.1f}" if value >= 10 else f"{value:.2f}"
    return (text.rstrip("0").rstrip(".") if "." in text else text) + "%"


def quote(phrase: str, limit: int = QUOTE_MAX) -> str:
    phrase = " ".join(phrase.split())
    return phrase if len(phrase) <= limit else phrase[: limit - 1] + "…"


def rate_words(rate: float, lexicon: Lexicon) -> str:
    """折合年化约12%，银行一年定期只有1%到2%：the yield set against today's deposit rate."""
    deposit = lexicon.deposit_rate
    times = rate * 100 / deposit.percent
    much = f"，是它的{times:.0f}倍左右" if times >= 3 else ""
    return f"折合年化约{percent(rate)}，银行一年定期只有{deposit.text}{much}"


def rate_line(rate: float, lexicon: Lexicon) -> str:
    """The yield in the whole reply, with how it was computed."""
    deposit = lexicon.deposit_rate
    if rate >= lexicon.threshold:
        return f"按它说的折算（按单利算），{rate_words(rate, lexicon)}。正规投资给不出又高又稳的回报。"
    if rate * 100 > deposit.percent * 1.5:
        return (f"文中收益折合年化约{percent(rate)}（按单利算），高于银行一年定期（{deposit.text}），"
                "要问清是不是持牌机构的产品。")
    return f"文中的年利率约{percent(rate)}，和银行一年定期（{deposit.text}）差不多。"


def _flag_lines(report: RiskReport, lexicon: Lexicon, limit: int) -> list[str]:
    lines = []
    for flag in report.flags[:limit]:
        entry = lexicon.flags.get(flag.id)
        reason = (entry.short if entry is not None and entry.short else flag.why).rstrip("。")
        if flag.id == "high_return" and report.annual_rate is not None:
            reason = rate_words(report.annual_rate, lexicon)
        lines.append(f"·「{quote(flag.phrase)}」：{reason}。")
    rest = len(report.flags) - limit
    if rest > 0:
        lines.append(f"还有{rest}处危险说法，回复“更多”看。")
    return lines


def render_personal(report: RiskReport, lexicon: Lexicon) -> str:
    """The first screen of a verdict on what the person described (report.verdict is high or caution)."""
    lines = [_HEAD.get(report.verdict, _HEAD["caution"]), *_flag_lines(report, lexicon, FIRST_SCREEN_FLAGS)]
    lines.append(_CLOSE.get(report.verdict, _CLOSE["caution"]))
    return "\n".join(lines)


def render_pasted(report: RiskReport, lexicon: Lexicon | None = None) -> str:
    """The first screen of a check of a pasted or forwarded text."""
    lexicon = lexicon or _default_lexicon()
    head = f"【风险检查】结论：{VERDICT_WORDS[report.verdict]}{_PASTED_TAIL[report.verdict]}"
    if report.verdict == "none":
        lines = [head]
        if report.annual_rate is not None:
            lines.append(rate_line(report.annual_rate, lexicon))
        return "\n".join([*lines, _NONE_ADVICE])
    lines = [head, *_flag_lines(report, lexicon, FIRST_SCREEN_FLAGS), _CLOSE[report.verdict].replace(
        "点“那怎么办”看下一步", "回复“更多”看为什么、怎么做")]
    return "\n".join(lines)


def render_full(report: RiskReport, lexicon: Lexicon | None = None, head: str | None = None) -> str:
    """Every flag with its reason, the yield, what to do now and the legal basis, in one WeChat reply."""
    lexicon = lexicon or _default_lexicon()
    top = [head or f"【风险检查】结论：{VERDICT_WORDS[report.verdict]}{_PASTED_TAIL[report.verdict]}"]
    if report.flags:
        top.append(f"发现{len(report.flags)}个危险信号：")
    tail = [rate_line(report.annual_rate, lexicon)] if report.annual_rate is not None else []
    tail.append(_NONE_ADVICE if report.verdict == "none" else _ACTIONS.format(first=_FIRST[report.verdict]))
    tail.append(BASIS)
    lines = [f"{i}.「{quote(f.phrase)}」{f.why}" for i, f in enumerate(report.flags, 1)]
    reply = ""
    for keep in range(len(lines), -1, -1):  # drop whole flag lines from the end until the reply fits
        rest = report.flags[keep:]
        named = "".join(f"「{quote(f.phrase, 8)}」" for f in rest)
        options = ([f"另有{len(rest)}个信号：{named}。"], [f"另有{len(rest)}个信号没有逐条列出。"]) if rest else ([],)
        for more in options:
            reply = "\n".join(top + lines[:keep] + more + tail)
            if len(reply.encode("utf-8")) <= WECHAT_PASSIVE_LIMIT:
                return reply
    return reply.encode("utf-8")[:WECHAT_PASSIVE_LIMIT].decode("utf-8", "ignore")


def render_details(report: RiskReport, lexicon: Lexicon, pasted: bool = False) -> str:
    """Behind "更多" after a verdict: the whole reply, opened for a person's own case or for a pasted text."""
    return render_full(report, lexicon, None if pasted else "您说的情况里，这些说法要警惕：")


def render_reply(report: RiskReport, lexicon: Lexicon | None = None) -> str:
    """The whole reply to a risk check, within one WeChat passive reply."""
    return render_full(report, lexicon)
