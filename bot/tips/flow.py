"""The tip flow (举报), an explicit state machine over the slots of shared/spec/chat-api.md.

    start ─► region ─► subject ─► description ─► amount? ─► participants? ─► evidence? ─► contact ─► confirm
              (slots already given are skipped — a story in the first message fills what it tells, see
               bot.tips.story; 跳过 skips an optional slot; 取消 anywhere discards all)
                                                                              确认 ─► filed (receipt)
                                                                              修改 ─► edit ─► one slot ─► confirm

The draft lives in `state.secret` (encrypted at rest, erased when the flow ends). Nothing typed here
goes to the NLU, to logs or to analytics.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bot.dialogue.context import Ctx, turn
from bot.dialogue.state import PLAIN_CASE
from bot.messages import Turn
from bot.offices import OfficeDirectory
from bot.store.models import utcnow
from bot.store.ratelimit import RateLimiter
from bot.tips.extract import amount_answer, is_money_not_people, participants_answer
from bot.tips.service import TipService, image_payload
from bot.tips.story import EDITABLE, SLOT_NAMES, fill_numbers, from_story, is_complaint, read_story

log = logging.getLogger(__name__)
TOPIC = "report_start"
SLOTS = ("region", "subject", "description", "amount", "participants", "evidence", "contact", "confirm")
OPTIONAL = frozenset({"amount", "participants", "evidence"})
SKIP_WORDS = frozenset({"跳过", "不知道", "不清楚", "没有", "无", "不详", "skip", "/skip", "略"})
UNKNOWN_PLACE = "不清楚"
MAX_IMAGES = 5
_NO_NAME = re.compile(r"^(不想|不愿意?|不方便|不)(说|留|写|告诉|给)|^不留")  # at the contact step: anonymous
_PHONE = re.compile(r"(?<!\d)(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})(?!\d)")
_REQUEST = re.compile(  # 我要举报 / 能帮我举报不 / 举报他们: the request itself, before any story
    r"^(你)?(能|可以|可不可以|能不能)?(帮我|帮忙|替我|给我|帮俺|替俺)?(去)?(我要|我想|想|要|我|俺要|俺想)?(实名|匿名)?"
    r"(举报|反映|报告|告发|投诉|检举|揭发)(一下|个事|一个|他们|她们|这家|那家|这个|那个)?(吗|不|呗|吧|啊)?[:：,，。?？!！\s]*"
)

YES_WORDS = frozenset({"对", "是", "是的", "对的", "没错", "可以", "行", "好", "好的", "嗯", "中", "就这样", "用这段",
                       "确认"})
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


def _clip(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _unkeyed(kind: str, value: str) -> str:
    return value


class TipFlow:
    def __init__(self, service: TipService, offices: OfficeDirectory, *, per_day: int = 5,
                 per_address_per_day: int = 20) -> None:
        self.service = service
        self.offices = offices
        self.per_day = per_day
        self.per_address_per_day = per_address_per_day
        self.service_hash: Callable[[str, str], str] = _unkeyed  # replaced by the bootstrap with a keyed hash

    # -- entering ---------------------------------------------------------------------------------
    def start(self, ctx: Ctx, confidence: float = 1.0) -> Turn:
        if not ctx.msg.private:
            return turn("为了保护您，举报只能在私聊里进行。请直接私信我，再说“我要举报”。", TOPIC,
                        confidence=confidence)
        if not self._allowed(ctx):
            return turn("您今天提交的举报已经比较多了，为防止滥用，请明天再来；情况紧急请直接拨打110。",
                        TOPIC, confidence=confidence)
        ctx.state.enter("tip", "region")
        draft: dict[str, Any] = {"evidence_notes": [], "images": []}
        ctx.state.secret = draft
        rest = _REQUEST.sub("", ctx.norm)
        intro = ("好的，我来帮您记录。举报加密保存，受理的县区处非办能打开；紧急的线索市处非办也能打开。"
                 "我们不会泄露您的身份；"
                 "可以匿名，只有想领奖励时才需要实名。\n随时回复“取消”就放弃，填写的内容会全部删除。\n\n")
        case = ctx.state.fresh_case()
        ctx.state.case = None  # what they described now belongs to the tip's sealed draft, or to nothing
        ctx.state.data.pop(PLAIN_CASE, None)
        if len(rest) >= 6:  # the story came with the request: take what it tells, show it in the summary
            draft["first"] = ctx.text
            read_story(draft, ctx.text, rest, self.offices)
        elif case is not None and case.get("text"):  # 我要举报他们 after a story: offer it, never file it silently
            draft["description"], draft["prefill_pending"] = case["text"], True
            self._pick_up(ctx, draft, case["text"], region=True)
            return self._ask(ctx, intro + PREFILL.format(_clip(case["text"])), "description", ["对", "重新说"],
                             confidence)
        return self._ask_next(ctx, intro, confidence)

    def keeps(self, ctx: Ctx) -> bool:
        """A message that reads like a cancel but answers the slot: 不想说 when asked for a name."""
        return ctx.state.step == "contact" and _NO_NAME.search(ctx.norm) is not None and "举报" not in ctx.norm

    def resume(self, ctx: Ctx) -> Turn:
        """"继续举报" after a question in the middle: the slot it stopped at, asked again."""
        draft = ctx.state.secret if isinstance(ctx.state.secret, dict) else {"evidence_notes": [], "images": []}
        ctx.state.secret = draft
        if ctx.state.step == "edit":
            return self._ask(ctx, "要改哪一项？", "edit", [*EDITABLE, "全部重填"])
        return self._ask_next(ctx, "好的，我们接着填。\n")

    def _allowed(self, ctx: Ctx, reserve: bool = False) -> bool:
        """Room for one more tip today (a look at the start; an atomic reservation when filing)."""
        limiter = RateLimiter(ctx.session)
        day = timedelta(days=1)
        # Counted to the hour only, so that the time of a count does not point at the tip it was for.
        hour: datetime = utcnow().replace(minute=0, second=0, microsecond=0)

        def check(bucket: str, key: str, limit: int) -> bool:
            if reserve:
                return limiter.reserve(bucket, key, limit, day, at=hour)
            return limiter.allowed(bucket, key, limit, day)

        if not check("tip", ctx.key, self.per_day):
            return False
        if ctx.msg.address and not check("tip_ip", self.service_hash("ip", ctx.msg.address),
                                         self.per_address_per_day):
            if reserve:
                limiter.release("tip", ctx.key)
            return False
        return True

    # -- stepping ---------------------------------------------------------------------------------
    def step(self, ctx: Ctx) -> Turn:
        draft = ctx.state.secret if isinstance(ctx.state.secret, dict) else {"evidence_notes": [], "images": []}
        ctx.state.secret = draft
        slot = ctx.state.step or "region"
        text, norm = ctx.text, ctx.norm.strip(" 。.!！")
        if slot == "evidence" and ctx.msg.kind == "image":
            if not ctx.msg.media:  # the platform would not hand the picture over
                return self._ask(ctx, "这张图片没收到，请再发一次；实在发不了，就用文字说明。", "evidence", ["跳过"])
            return self._image(ctx, draft)
        if slot == "edit":
            return self._edit(ctx, draft, norm)
        if slot not in ("confirm", "contact") and is_complaint(norm):  # "我刚才不是说了吗" is never a value
            if from_story(draft, slot, self.offices):
                return self._ask_next(ctx, "抱歉，是我没看仔细，已经从您前面的话里记下了。\n")
            return self._ask(ctx, f"抱歉，您前面的话里我没找到{SLOT_NAMES.get(slot, '这一项')}。"
                             "麻烦直接告诉我；不知道就回复“不知道”。", slot, ["不知道"] if slot in OPTIONAL else [])
        if slot in OPTIONAL and norm in SKIP_WORDS | {"好了", "完成", "没了", "就这些"}:
            draft.setdefault(slot, None)
            draft[f"{slot}_done"] = True
            return self._ask_next(ctx)
        if slot == "subject" and norm in SKIP_WORDS:
            draft["subject"] = "（不清楚）"
        elif slot == "region":
            office = None if norm in SKIP_WORDS | {UNKNOWN_PLACE} else self.offices.resolve(text)
            draft["region"] = (office or self.offices.city).code
            draft["region_text"] = text
        elif slot == "subject":
            draft["subject"] = text
            self._pick_up(ctx, draft, text)
        elif slot == "description" and draft.pop("prefill_pending", False):
            if norm in YES_WORDS:
                return self._ask_next(ctx, "好的，就按这段记。\n")
            if norm in ("重新说", "不对", "不是", "重说", "不用这段"):
                draft.pop("description", None)
                return self._ask(ctx, PROMPTS["description"], "description")
            draft["description"] = text  # what they typed instead is the description
            self._pick_up(ctx, draft, text)
        elif slot == "description":
            if len(norm) < 4:
                return self._ask(ctx, "能再多说几句吗？比如他们承诺了什么、怎么拉人。", "description")
            draft["description"] = text
            self._pick_up(ctx, draft, text)
        elif slot == "amount":
            draft["amount_text"], draft["amount"] = text, amount_answer(text)
            draft["amount_done"] = True
        elif slot == "participants":
            if is_money_not_people(text) and (amount := amount_answer(text)) is not None:
                # money given where the head count was asked ("三十万"): it is the amount, not 300,000 people
                draft["amount"], draft["amount_text"], draft["amount_done"] = amount, text, True
                return self._ask(ctx, "金额记下了：" + text + "。这里想问的是大概有多少人投了钱？"
                                 "（例如“三十多人”，不清楚回复“跳过”）", "participants")
            n = participants_answer(text)
            draft["participants_text"], draft["participants"] = text, n
            draft["participants_done"] = True
        elif slot == "evidence":
            draft["evidence_notes"].append(text)
            draft["evidence_done"] = True
        elif slot == "contact":
            return self._contact(ctx, draft, norm)
        elif slot == "confirm":
            return self._confirm(ctx, draft, norm)
        return self._ask_next(ctx)

    def _pick_up(self, ctx: Ctx, draft: dict[str, Any], text: str, region: bool = False) -> None:
        """Slots typed early: a county named, a total amount (not one share's price), a head count."""
        if region and "region" not in draft:
            office = self.offices.resolve(text)
            if office is not None:
                draft["region"], draft["region_text"] = office.code, office.area
        fill_numbers(draft, text)

    def _edit(self, ctx: Ctx, draft: dict[str, Any], norm: str) -> Turn:
        """修改 → which field → that one question again → back to the summary."""
        slot = EDITABLE.get(norm) or next((v for k, v in EDITABLE.items() if k in norm), None)
        if slot is None:
            return self._ask(ctx, "要改哪一项？请点下面的按钮。", "edit", [*EDITABLE, "全部重填"])
        for key in (slot, f"{slot}_text", f"{slot}_done"):
            draft.pop(key, None)
        if slot == "region":
            return self._ask(ctx, PROMPTS["region"], "region", self._county_buttons())
        return self._ask(ctx, PROMPTS[slot], slot, ["跳过"] if slot in OPTIONAL else [])

    def _image(self, ctx: Ctx, draft: dict[str, Any]) -> Turn:
        images = draft.setdefault("images", [])
        if len(images) >= MAX_IMAGES:
            return self._ask(ctx, f"最多收{MAX_IMAGES}张图片，已经够了。回复“好了”继续。", "evidence")
        images.append(image_payload(ctx.msg.media or b""))
        return self._ask(ctx, f"收到第{len(images)}张图片。还有就继续发，发完回复“好了”。", "evidence")

    def _contact(self, ctx: Ctx, draft: dict[str, Any], norm: str) -> Turn:
        if ("匿名" in norm or _NO_NAME.search(norm)) and not _PHONE.search(norm):
            draft["contact"] = "匿名"
        elif _PHONE.search(norm):
            draft["contact"] = ctx.text
        else:
            return self._ask(ctx, "请回复“匿名”，或者回复姓名和手机号（例如：张三 13800000000）。", "contact")
        return self._ask_next(ctx)

    def _confirm(self, ctx: Ctx, draft: dict[str, Any], norm: str) -> Turn:
        if norm in ("修改", "改一下", "要改", "改"):
            return self._ask(ctx, "要改哪一项？", "edit", [*EDITABLE, "全部重填"])
        if norm in ("重填", "重新填", "全部重填"):
            ctx.state.secret = {"evidence_notes": [], "images": []}
            return self._ask(ctx, "好的，我们重新填一遍。\n" + PROMPTS["region"], "region", self._county_buttons())
        if norm not in ("确认", "确定", "提交", "对", "是", "好", "ok", "确认提交"):
            return self._ask(ctx, "请回复“确认”提交，“修改”重新填写，或“取消”放弃。", "confirm",
                             ["确认", "修改", "取消"])
        if not self.service.can_seal(ctx.session):  # no office key yet: keep the draft, never store it in clear
            log.error("tip not filed: no office key", extra={"error_type": "NoOfficeKey"})
            city = self.offices.city
            text = ("抱歉，举报系统还在配置中，现在提交不了。您填的内容还保留着，过一会儿回复“确认”再试；"
                    f"着急的话请直接打电话给{city.name}：{city.contacts.phone}。")
            return self._ask(ctx, text, "confirm", ["确认", "取消"])
        if not self._allowed(ctx, reserve=True):
            ctx.state.leave()
            return turn("您今天提交的举报已经比较多了，为防止滥用，请明天再来；情况紧急请直接拨打110。", TOPIC)
        filed = self.service.file(ctx.session, draft, channel=ctx.msg.channel, chat_user=ctx.msg.user)
        ctx.after_commit.append(lambda: self.service.notify(filed))
        ctx.state.leave()  # nothing in the conversation keeps which tip it filed
        office = self.offices.get(filed.office_code) or self.offices.city
        urgent = "\n这条线索比较紧急，已同时报送市处非办。" if filed.urgent else ""
        return turn(
            f"举报已提交，谢谢您！已转交{office.name}。{urgent}\n\n您的回执码：{filed.receipt}\n"
            "请截图或抄下来保存好，这是查询进度的唯一凭证，我们不会再显示。"
            "以后发送“查询 回执码”就能看进度、补充材料，不需要提供任何身份信息。",
            TOPIC, buttons=["举报会泄露身份吗", "举报有奖励吗"], receipt=filed.receipt)

    def after_unsubscribe(self, ctx: Ctx, topic: str) -> Turn:
        """After 退订 typed mid-tip: the pushes are stopped; ask whether to drop the tip or go on."""
        asked = self._ask_next(ctx, "已为您退订，以后不会再给您推送提醒。\n您正在填写的举报还没有提交："
                               "要放弃这次举报，请回复“取消”，填写的内容会全部删除；想接着填，直接回答下面的问题。\n\n")
        reply = asked.replies[0]
        buttons = tuple(b.label for b in reply.buttons if b.label != "取消")
        return turn(reply.text, topic, buttons=["取消", *buttons], expects=asked.expects)

    # -- asking -----------------------------------------------------------------------------------
    def _next_slot(self, draft: dict[str, Any]) -> str:
        for slot in SLOTS:
            if slot == "confirm":
                return slot
            if slot in OPTIONAL and draft.get(f"{slot}_done"):
                continue
            if slot not in OPTIONAL and draft.get(slot):
                continue
            return slot
        return "confirm"

    def _ask_next(self, ctx: Ctx, prefix: str = "", confidence: float = 1.0) -> Turn:
        draft = ctx.state.secret or {}
        slot = self._next_slot(draft)
        if slot == "confirm":
            return self._ask(ctx, prefix + self._summary(draft), "confirm", ["确认", "修改", "取消"], confidence)
        buttons = self._county_buttons() if slot == "region" else (
            ["跳过"] if slot in OPTIONAL else (["匿名"] if slot == "contact" else []))
        return self._ask(ctx, prefix + PROMPTS[slot], slot, buttons, confidence)

    def _ask(self, ctx: Ctx, text: str, slot: str, buttons: list[str] | None = None,
             confidence: float = 1.0) -> Turn:
        ctx.state.step = slot
        return turn(text, TOPIC, buttons=buttons or [], expects=slot, confidence=confidence)

    def _county_buttons(self) -> list[str]:
        return [o.area for o in self.offices.counties] + [UNKNOWN_PLACE]

    def _summary(self, draft: dict[str, Any]) -> str:
        office = self.offices.get(draft.get("region") or "") or self.offices.city
        desc = _clip(draft.get("description", ""))
        contact = draft.get("contact", "")
        if contact != "匿名":
            contact = "实名（" + _PHONE.sub(lambda m: m.group(1)[:3] + "****", contact) + "）"
        lines = ["请核对您的举报：", f"· 地区：{office.area}", f"· 涉及对象：{draft.get('subject', '')}",
                 f"· 情况：{desc}", f"· 金额：{draft.get('amount_text') or '未填'}",
                 f"· 人数：{draft.get('participants_text') or '未填'}",
                 f"· 证据：{len(draft.get('images', []))}张图片，{len(draft.get('evidence_notes', []))}条说明",
                 f"· 身份：{contact}", "", "没问题请回复“确认”提交；哪一项不对，回复“修改”改那一项；回复“取消”放弃。"]
        return "\n".join(lines)
