"""What the tip flow asks and shows: the slots in order, their questions, and the summary to confirm."""

from __future__ import annotations

import re
from typing import Any, Protocol

from bot.dialogue.context import Ctx

SLOTS = ("region", "subject", "description", "amount", "participants", "evidence", "contact", "confirm")
OPTIONAL = frozenset({"amount", "participants", "evidence"})
SKIP_WORDS = frozenset({"跳过", "不知道", "不清楚", "没有", "无", "不详", "skip", "/skip", "略"})
DONE_WORDS = SKIP_WORDS | {"好了", "完成", "没了", "就这些"}
UNKNOWN_PLACE = "不清楚"
NO_NAME = re.compile(r"^(不想|不愿意?|不方便|不)(说|留|写|告诉|给)|^不留")  # at the contact step: anonymous
PHONE = re.compile(r"(?<!\d)(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})(?!\d)")
YES_WORDS = frozenset({"对", "是", "是的", "对的", "没错", "可以", "行", "好", "好的", "嗯", "中", "就这样", "用这段",
                       "确认"})
INTRO = ("好的，我来帮您记录。举报加密保存，受理的县区处非办能打开；紧急的线索市处非办也能打开。"
         "我们不会泄露您的身份；"
         "可以匿名，只有想领奖励时才需要实名。\n随时回复“取消”就放弃，填写的内容会全部删除。\n\n")
TOO_MANY = "您今天提交的举报已经比较多了，为防止滥用，请明天再来；情况紧急请直接拨打110。"
NO_KEY = ("抱歉，举报系统还在配置中，现在提交不了。您填的内容还保留着，过一会儿回复“确认”再试；"
          "着急的话请直接打电话给{name}：{phone}。")
PREFILL = "您刚才说的情况，我先记作举报内容：\n「{}」\n对吗？对就回复“对”；要改就直接把新的说给我，或者回复“重新说”。"
PROMPTS = {
    "region": "这件事发生在哪个县区？",
    "subject": "涉及的公司、店铺、微信群或个人叫什么？知道多少写多少。",
    "description": "他们具体是怎么做的？比如承诺多少回报、怎么拉人、在哪里宣传、什么时候开始的。",
    "amount": "大概涉及多少钱？（例如“二十万左右”，不清楚回复“跳过”）",
    "participants": "大概有多少人投了钱？（例如“三十多人”，不清楚回复“跳过”）",
    "evidence": "有照片、截图、传单、合同吗？能发图片就直接发；\n也可以用文字说明在哪里、有什么。没有就回复“跳过”。",
    "contact": "最后，您想匿名还是实名？\n· 回复“匿名”：不会留下姓名电话；为了能给您回话，系统加密保存了您的聊天账号，"
               "工作人员看不到。"
               "\n· 实名：回复您的姓名和电话（只有实名举报才能领奖励）。",
}


class Offices(Protocol):
    @property
    def city(self) -> Any: ...

    def get(self, code: str) -> Any: ...


def new_draft() -> dict[str, Any]:
    return {"evidence_notes": [], "images": []}


def draft_of(ctx: Ctx) -> dict[str, Any]:
    """The tip's draft, sealed in the conversation (a fresh one when there is none)."""
    draft = ctx.state.secret if isinstance(ctx.state.secret, dict) else new_draft()
    ctx.state.secret = draft
    return draft


def contact_answer(norm: str, text: str) -> str | None:
    """匿名 (or 不想说), or the name and phone as typed; None when neither is there."""
    if ("匿名" in norm or NO_NAME.search(norm)) and not PHONE.search(norm):
        return "匿名"
    return text if PHONE.search(norm) else None


def filed_text(office: str, urgent: bool, receipt: str) -> str:
    """The answer to a filed tip: where it went, and its receipt code, shown this once."""
    also = "\n这条线索比较紧急，已同时报送市处非办。" if urgent else ""
    return (f"举报已提交，谢谢您！已转交{office}。{also}\n\n您的回执码：{receipt}\n"
            "请截图或抄下来保存好，这是查询进度的唯一凭证，我们不会再显示。"
            "以后发送“查询 回执码”就能看进度、补充材料，不需要提供任何身份信息。")


def clip(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def next_slot(draft: dict[str, Any]) -> str:
    """The first slot not yet filled (an optional one counts once answered or skipped)."""
    for slot in SLOTS:
        if slot == "confirm":
            return slot
        if slot in OPTIONAL and draft.get(f"{slot}_done"):
            continue
        if slot not in OPTIONAL and draft.get(slot):
            continue
        return slot
    return "confirm"


def summary(draft: dict[str, Any], offices: Offices) -> str:
    """The whole tip, to be confirmed before it is filed (a phone number masked)."""
    office = offices.get(draft.get("region") or "") or offices.city
    desc = clip(draft.get("description", ""))
    contact = draft.get("contact", "")
    if contact != "匿名":
        contact = "实名（" + PHONE.sub(lambda m: m.group(1)[:3] + "****", contact) + "）"
    lines = ["请核对您的举报：", f"· 地区：{office.area}", f"· 涉及对象：{draft.get('subject', '')}",
             f"· 情况：{desc}", f"· 金额：{draft.get('amount_text') or '未填'}",
             f"· 人数：{draft.get('participants_text') or '未填'}",
             f"· 证据：{len(draft.get('images', []))}张图片，{len(draft.get('evidence_notes', []))}条说明",
             f"· 身份：{contact}", "", "没问题请回复“确认”提交；哪一项不对，回复“修改”改那一项；回复“取消”放弃。"]
    return "\n".join(lines)
