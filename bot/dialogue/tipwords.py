"""Does a message open the tip flow, and what of it is the story: the one reading of 举报 / 投诉 for every caller.

    opens:     我要举报他们 · 举报石泉县鑫盛合作社… · 我想去投诉这个合作社 · 我想把这个公司举报了 · 那我举报这个国链币 ·
               帮我举报它 · 能帮我举报不 · 俺要举报 · 好 我去举报他们 · 帮俺报上去 · 告他们
    does not:  举报有奖励吗 · 怎么举报 · 举报电话多少 · 举报了会不会泄露我的身份 · 投诉电话是多少 (questions about
               reporting: the NLU answers them; one it cannot place is taken as report_how)
"""

from __future__ import annotations

import re

_LEAD = r"((那|那么|那就|好|好吧|好的|行|对|嗯)[,，\s]*)*"  # 那我举报这个国链币 · 好 那我举报
_WHO = r"(我|俺|咱|我们|俺们|咱们)?"
_WANT = r"(要|想|想要|需要|得|准备|打算)"
_VERB = (r"(举报|检举|揭发|告发|反映|投诉|报上去|上报|报给(政府|处非办|有关部门|上面|公安|警察|你们)|"  # 你帮我报给政府
         r"告(?!诉|知|示|别|辞|白|状态))")  # 帮俺报上去 · 告他们
_HELPER = r"(你)?(能|可以|可不可以|能不能)?(帮我|帮忙|替我|给我|帮俺|替俺)"
_THEM = r"(一下|个事|一个|他们|她们|它们|它|(这|那)(个|家|伙|帮)?[\u4e00-\u9fff]{0,4})?"  # 帮我举报这个中心
_TAIL = r"(吗|不|呗|吧|啊)?"

# 我要举报 / 俺想去投诉 / 我要实名举报 / 那我现在就举报: a stated wish to report
_NOW = r"((现在|马上|这就|立刻|立马|今天|那就)(就)?)?"
_FOR = r"((替|帮|给)(他|她|他们|她们|我爸|我妈|俺爹|俺娘|老人|家里))?"  # 我想替他举报这家公司
_REQUEST = re.compile(  # 好 我去举报他们
    rf"^{_LEAD}{_WHO}{_NOW}({_WANT}(去|来)?|去|就){_FOR}(实名|匿名)?(去)?{_VERB}(?!电话|热线|方式|方法|渠道|途径|流程)"
)
# 举报他们 / 举报石泉县鑫盛合作社…: a bare 举报 opens a tip too, unless it asks about reporting (举报有奖励吗)
_BARE = re.compile(
    rf"^{_LEAD}{_WHO}(实名|匿名)?{_VERB}"
    r"(?!电话|热线|方式|方法|渠道|途径|流程|程序|步骤|须知|指南|奖|有|会|能|可以|要|需要|怎么|咋|的|了|过)"
)
# 能帮我举报不 / 帮我举报它: asking the bot to take the tip
_HELP = re.compile(rf"^{_LEAD}{_HELPER}(去)?{_VERB}{_THEM}{_TAIL}[?？!！。.]*$")
# 我想把这个公司举报了: the object before the verb
_MOVE = re.compile(
    rf"^{_LEAD}{_WHO}({_WANT}|就)?(主动|直接|马上|还是)?(去)?(把|将)(?P<what>.{{1,20}}?)(给)?{_VERB}(了|掉)?(吧|啊)?[.。!！]*$"
)
_ASKS = re.compile(
    r"[?？]|吗|么|嘛|怎么|咋|如何|什么|啥|多少|哪|能不能|可不可以|有没有|会不会|是不是|[不没]$|奖励|奖金|泄露|保密|身份|电话"
)
# the request words in front of a story (what follows them is the story)
_WORDS = re.compile(
    rf"^{_LEAD}({_HELPER})?{_WHO}{_NOW}(就)?{_WANT}?(去|来)?{_FOR}(实名|匿名)?(去)?{_VERB}{_THEM}{_TAIL}[:：,，。?？!！\s]*"
)
# what only points back at a story told before: 他们, 这个公司, 这伙人
_POINTER = re.compile(  # 还有那几个业务员: more of the same people, no new story
    r"^(还有|以及|和|跟|连同)?((这|那)(个|家|伙|些|帮|几个|几家)?[\u4e00-\u9fff]{0,6}|(他|她|它)(们)?(的)?[\u4e00-\u9fff]{0,4})$"
)
# 那我实名举报，帮我登记一下: asking the bot to take it down is no story
_CHORE = re.compile(
    r"[,，\s]*(你|请|麻烦你?)?(帮我|帮忙|帮俺|替我|给我)?(登记|记录|记|报|处理|受理|提交|转|上报|报上去)"
    r"(一下|下|上去|了)?(吧|呗|啊|哈)?$"
)
MIN_STORY = 6  # characters after the request words from which they are a story (not 这个公司)
_ABOUT = re.compile(r"举报|检举|报警|报案|投诉|(在哪|哪里|去哪|咋|怎么|如何)(儿)?报")


def opens_tip(norm: str) -> bool:
    """The message (normalised) asks to report: the tip flow opens, before any NLU."""
    if _REQUEST.match(norm) or _HELP.match(norm):
        return True
    return (_BARE.match(norm) is not None or _MOVE.match(norm) is not None) and not _ASKS.search(norm)


def story_of(norm: str) -> str:
    """What the opening message tells besides the request ("" when it only points back: 举报他们)."""
    moved = _MOVE.match(norm)
    rest = moved.group("what") if moved else _WORDS.sub("", norm)
    rest = _CHORE.sub("", rest.strip(" ,，。.!！?？")).strip(" ,，。.!！?？")
    if _ASKS.search(rest) and not re.search(r"\d|[万千百]", rest):  # 我要举报他们，能不能不留名字: a question
        return ""
    return "" if len(rest) < MIN_STORY or _POINTER.match(rest) else rest


def asks_about_reporting(norm: str) -> bool:
    """A question about reporting (咋报警，在哪报) that does not open a tip."""
    return _ABOUT.search(norm) is not None and _ASKS.search(norm) is not None and not opens_tip(norm)
