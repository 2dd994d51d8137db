"""The tip flow (举报), an explicit state machine over the slots of shared/spec/chat-api.md.

    start ─► region ─► subject ─► description ─► amount? ─► participants? ─► evidence? ─► contact ─► confirm
              (slots already given are skipped; 跳过 skips an optional slot; 取消 anywhere discards all)
                                                                              确认 ─► filed (receipt)
                                                                              修改 ─► region

The draft lives in `state.secret` (encrypted at rest, erased when the flow ends). Nothing typed here
goes to the NLU, to logs or to analytics.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta

from bot.dialogue.context import Ctx, turn
from bot.messages import Turn
from bot.offices import OfficeDirectory
from bot.store.ratelimit import RateLimiter
from bot.tips.extract import amount_answer, is_money_not_people, parse_amount, parse_participants, participants_answer
from bot.tips.service import TipService, image_payload

log = logging.getLogger(__name__)
TOPIC = "report_start"
SLOTS = ("region", "subject", "description", "amount", "participants", "evidence", "contact", "confirm")
OPTIONAL = frozenset({"amount", "participants", "evidence"})
SKIP_WORDS = frozenset({"跳过", "不知道", "不清楚", "没有", "无", "不详", "skip", "/skip", "略"})
UNKNOWN_PLACE = "不清楚"
MAX_IMAGES = 5
_PHONE = re.compile(r"(?<!\d)(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})(?!\d)")
_REQUEST = re.compile(
    r"^(我要|我想|想|要|我)?(实名|匿名)?(举报|反映|报告|告发|投诉|检举|揭发)(一下|个事|一个)?[:：,，。\s]*"
)

PROMPTS = {
    "region": "这件事发生在哪个县区？",
    "subject": "涉及的公司、店铺、微信群或个人叫什么？知道多少写多少。",
    "description": "他们具体是怎么做的？比如承诺多少回报、怎么拉人、在哪里宣传、什么时候开始的。",
    "amount": "大概涉及多少钱？（例如“二十万左右”，不清楚回复“跳过”）",
    "participants": "大概有多少人投了钱？（例如“三十多人”，不清楚回复“跳过”）",
    "evidence": "有照片、截图、传单、合同吗？能发图片就直接发；\n也可以用文字说明在哪里、有什么。没有就回复“跳过”。",
    "contact": "最后，您想匿名还是实名？\n· 回复“匿名”：不留任何身份信息。"
               "\n· 实名：回复您的姓名和电话（只有实名举报才能领奖励）。",
}


class TipFlow:
    def __init__(self, service: TipService, offices: OfficeDirectory, *, per_day: int = 5,
                 per_address_per_day: int = 20) -> None:
        self.service = service
        self.offices = offices
        self.per_day = per_day
        self.per_address_per_day = per_address_per_day

    # -- entering ---------------------------------------------------------------------------------
    def start(self, ctx: Ctx, confidence: float = 1.0) -> Turn:
        if not ctx.msg.private:
            return turn("为了保护您，举报只能在私聊里进行。请直接私信我，再说“我要举报”。", TOPIC,
                        confidence=confidence)
        if not self._allowed(ctx):
            return turn("您今天提交的举报已经比较多了，为防止滥用，请明天再来；情况紧急请直接拨打110。",
                        TOPIC, confidence=confidence)
        ctx.state.enter("tip", "region")
        draft: dict = {"evidence_notes": [], "images": []}
        ctx.state.secret = draft
        rest = _REQUEST.sub("", ctx.norm)
        if len(rest) >= 6:
            draft["first"] = ctx.text
            self._pick_up(ctx, draft, ctx.text, region=True)
        intro = ("好的，我来帮您记录。您的举报会加密保存，只有负责的处非办能看到，我们不会泄露您的身份；"
                 "可以匿名，只有想领奖励时才需要实名。\n随时回复“取消”就放弃，填写的内容会全部删除。\n\n")
        return self._ask_next(ctx, intro, confidence)

    def _allowed(self, ctx: Ctx) -> bool:
        limiter = RateLimiter(ctx.session)
        day = timedelta(days=1)
        if not limiter.allowed("tip", ctx.key, self.per_day, day):
            return False
        if ctx.msg.address:
            addr = self.service_hash("ip", ctx.msg.address)
            return limiter.allowed("tip_ip", addr, self.per_address_per_day, day)
        return True

    service_hash = staticmethod(lambda kind, value: value)  # replaced by the bootstrap with a keyed hash

    # -- stepping ---------------------------------------------------------------------------------
    def step(self, ctx: Ctx) -> Turn:
        draft = ctx.state.secret if isinstance(ctx.state.secret, dict) else {"evidence_notes": [], "images": []}
        ctx.state.secret = draft
        slot = ctx.state.step or "region"
        text, norm = ctx.text, ctx.norm.strip(" 。.!！")
        if slot == "evidence" and ctx.msg.kind == "image" and ctx.msg.media:
            return self._image(ctx, draft)
        if slot in OPTIONAL and norm in SKIP_WORDS | {"好了", "完成", "没了", "就这些"}:
            draft.setdefault(slot, None)
            draft[f"{slot}_done"] = True
            return self._ask_next(ctx)
        if slot == "region":
            office = None if norm in SKIP_WORDS | {UNKNOWN_PLACE} else self.offices.resolve(text)
            draft["region"] = (office or self.offices.city).code
            draft["region_text"] = text
        elif slot == "subject":
            draft["subject"] = text
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

    def _pick_up(self, ctx: Ctx, draft: dict, text: str, region: bool = False) -> None:
        """Slots typed early: a county named, an amount, a head count."""
        if region and "region" not in draft:
            office = self.offices.resolve(text)
            if office is not None:
                draft["region"], draft["region_text"] = office.code, office.area
        if draft.get("amount") is None and (amount := parse_amount(text)) is not None:
            draft["amount"], draft["amount_text"], draft["amount_done"] = amount, f"{amount}元（从描述中识别）", True
        if draft.get("participants") is None and (n := parse_participants(text)) is not None:
            draft["participants"], draft["participants_text"] = n, f"{n}人（从描述中识别）"
            draft["participants_done"] = True

    def _image(self, ctx: Ctx, draft: dict) -> Turn:
        images = draft.setdefault("images", [])
        if len(images) >= MAX_IMAGES:
            return self._ask(ctx, f"最多收{MAX_IMAGES}张图片，已经够了。回复“好了”继续。", "evidence")
        images.append(image_payload(ctx.msg.media or b""))
        return self._ask(ctx, f"收到第{len(images)}张图片。还有就继续发，发完回复“好了”。", "evidence")

    def _contact(self, ctx: Ctx, draft: dict, norm: str) -> Turn:
        if "匿名" in norm and not _PHONE.search(norm):
            draft["contact"] = "匿名"
        elif _PHONE.search(norm):
            draft["contact"] = ctx.text
        else:
            return self._ask(ctx, "请回复“匿名”，或者回复姓名和手机号（例如：张三 13800000000）。", "contact")
        return self._ask_next(ctx)

    def _confirm(self, ctx: Ctx, draft: dict, norm: str) -> Turn:
        if norm in ("修改", "重填", "重新填"):
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
        filed = self.service.file(ctx.session, draft, channel=ctx.msg.channel, chat_user=ctx.msg.user,
                                  chat_key=ctx.key)
        ctx.after_commit.append(lambda: self.service.notify(filed))
        limiter = RateLimiter(ctx.session)
        limiter.hit("tip", ctx.key)
        if ctx.msg.address:
            limiter.hit("tip_ip", self.service_hash("ip", ctx.msg.address))
        ctx.state.leave()
        ctx.state.data["filed"] = filed.tip_id
        office = self.offices.get(filed.office_code) or self.offices.city
        urgent = "\n这条线索比较紧急，已同时报送市处非办。" if filed.urgent else ""
        return turn(
            f"举报已提交，谢谢您！已转交{office.name}。{urgent}\n\n您的回执码：{filed.receipt}\n"
            "请截图或抄下来保存好，这是查询进度的唯一凭证，我们不会再显示。"
            "以后发送“查询 回执码”就能看进度、补充材料，不需要提供任何身份信息。",
            TOPIC, buttons=["举报会泄露身份吗", "举报有奖励吗"], receipt=filed.receipt)

    def resume(self, ctx: Ctx, topic: str) -> Turn:
        """After 退订 typed mid-tip: the pushes are stopped; ask whether to drop the tip or go on."""
        asked = self._ask_next(ctx, "已为您退订，以后不会再给您推送提醒。\n您正在填写的举报还没有提交："
                               "要放弃这次举报，请回复“取消”，填写的内容会全部删除；想接着填，直接回答下面的问题。\n\n")
        reply = asked.replies[0]
        buttons = tuple(b.label for b in reply.buttons if b.label != "取消")
        return turn(reply.text, topic, buttons=["取消", *buttons], expects=asked.expects)

    # -- asking -----------------------------------------------------------------------------------
    def _next_slot(self, draft: dict) -> str:
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

    def _summary(self, draft: dict) -> str:
        office = self.offices.get(draft.get("region") or "") or self.offices.city
        desc = draft.get("description", "")
        desc = desc if len(desc) <= 120 else desc[:120] + "…"
        contact = draft.get("contact", "")
        if contact != "匿名":
            contact = "实名（" + _PHONE.sub(lambda m: m.group(1)[:3] + "****", contact) + "）"
        lines = ["请核对您的举报：", f"· 地区：{office.area}", f"· 涉及对象：{draft.get('subject', '')}",
                 f"· 情况：{desc}", f"· 金额：{draft.get('amount_text') or '未填'}",
                 f"· 人数：{draft.get('participants_text') or '未填'}",
                 f"· 证据：{len(draft.get('images', []))}张图片，{len(draft.get('evidence_notes', []))}条说明",
                 f"· 身份：{contact}", "", "没问题请回复“确认”提交；回复“修改”重填；回复“取消”放弃。"]
        return "\n".join(lines)
