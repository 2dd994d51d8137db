"""The words of a personal verdict: a first screen about the person's own case, and the details behind "更多".

The first screen is short (a 70-year-old reads it on a phone): the verdict in one line, each flag with the
person's own words that raised it and the reason in a few words, the yield against what a bank deposit pays
(the rate is in content/red_flags.yaml, so an office keeps it current), and one line of what to do.
"""

from __future__ import annotations

from bot.riskcheck import WECHAT_PASSIVE_LIMIT, RiskReport
from bot.riskcheck_lexicon import Lexicon

FIRST_SCREEN_FLAGS = 3
_HEAD = {
    "high": "您说的这个，是非法集资的典型说法，风险很高。",
    "caution": "您说的这个，有非法集资常用的说法，要当心。",
}
_CLOSE = {
    "high": "千万别交钱，已交的别再追加。点“那怎么办”看下一步。",
    "caution": "交钱前先问清是哪家机构、有没有金融牌照。",
}
BASIS = (
    "【依据】《防范和处置非法集资条例》第二条：未经依法许可，以许诺还本付息或者给予回报等方式，"
    "向不特定对象吸收资金，就是非法集资。《最高人民法院关于审理非法集资刑事案件具体应用法律若干问题的解释》"
    "（2022年修正）第一条：非法性、公开性、利诱性、社会性四个特征同时具备的，认定为非法吸收公众存款。"
)


def percent(rate: float) -> str:
    """0.12 → '12%', 0.085 → '8.5%', 1.095 → '110%'."""
    value = rate * 100
    text = f"{value:.0f}" if value >= 100 else f"{value:.1f}"
    return (text.rstrip("0").rstrip(".") if "." in text else text) + "%"


def quote(phrase: str, limit: int = 14) -> str:
    phrase = " ".join(phrase.split())
    return phrase if len(phrase) <= limit else phrase[: limit - 1] + "…"


def rate_words(rate: float, lexicon: Lexicon) -> str:
    """折合年化约12%，银行一年定期只有1%到2%：the yield set against today's deposit rate."""
    deposit = lexicon.deposit_rate
    times = rate * 100 / deposit.percent
    much = f"，是它的{times:.0f}倍左右" if times >= 3 else ""
    return f"折合年化约{percent(rate)}，银行一年定期只有{deposit.text}{much}"


def render_personal(report: RiskReport, lexicon: Lexicon) -> str:
    """The first screen of a verdict on what the person described (report.verdict is high or caution)."""
    lines = [_HEAD.get(report.verdict, _HEAD["caution"])]
    for flag in report.flags[:FIRST_SCREEN_FLAGS]:
        entry = lexicon.flags.get(flag.id)
        reason = (entry.short if entry is not None and entry.short else flag.why).rstrip("。")
        if flag.id == "high_return" and report.annual_rate is not None:
            reason = rate_words(report.annual_rate, lexicon)
        lines.append(f"·「{quote(flag.phrase)}」：{reason}。")
    rest = len(report.flags) - FIRST_SCREEN_FLAGS
    if rest > 0:
        lines.append(f"还有{rest}处危险说法，回复“更多”看。")
    lines.append(_CLOSE.get(report.verdict, _CLOSE["caution"]))
    return "\n".join(lines)


def render_details(report: RiskReport, lexicon: Lexicon) -> str:
    """Behind "更多": every flag with its reason, the yield against a deposit, what to do, the legal basis."""
    lines = ["您说的情况里，这些说法要警惕："]
    lines += [f"{i}.「{quote(f.phrase, 20)}」{f.why}" for i, f in enumerate(report.flags, 1)]
    if report.annual_rate is not None:
        lines.append(rate_words(report.annual_rate, lexicon) + "。正规投资给不出又高又稳的回报。")
    lines += ["怎么做：不交钱、不追加、不拉亲友；合同、收据、转账和聊天记录都留好；"
              "回复“我要举报”可以匿名举报，被骗了打110报案。", BASIS]
    text = "\n".join(lines)
    while len(text.encode("utf-8")) > WECHAT_PASSIVE_LIMIT and len(lines) > 3:
        del lines[-3]  # drop flag lines from the end until it fits one WeChat reply
        text = "\n".join(lines)
    return text
