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
from collections.abc import Callable
from typing import Any

from bot.dialogue.context import Ctx, turn
from bot.dialogue.state import PLAIN_CASE
from bot.dialogue.tipwords import story_of
from bot.messages import Turn
from bot.offices import OfficeDirectory
from bot.tips.extract import amount_answer, is_money_not_people, participants_answer
from bot.tips.prompts import (
    DONE_WORDS,
    INTRO,
    NO_KEY,
    NO_NAME,
    OPTIONAL,
    PREFILL,
    PROMPTS,
    SKIP_WORDS,
    TOO_MANY,
    UNKNOWN_PLACE,
    YES_WORDS,
    clip,
    contact_answer,
    draft_of,
    filed_text,
    new_draft,
    next_slot,
    summary,
)
from bot.tips.quota import tip_allowed
from bot.tips.service import TipService, image_payload
from bot.tips.story import EDITABLE, SLOT_NAMES, fill_numbers, from_story, is_complaint, read_story

log = logging.getLogger(__name__)
TOPIC = "report_start"
MAX_IMAGES = 5


class TipFlow:
    def __init__(self, service: TipService, offices: OfficeDirectory, *, address_hash: Callable[[str, str], str],
                 per_day: int = 5, per_address_per_day: int = 20) -> None:
        self.service = service
        self.offices = offices
        self.address_hash = address_hash  # keyed: a person's address is never stored or counted in the clear
        self.per_day = per_day
        self.per_address_per_day = per_address_per_day

    # -- entering ---------------------------------------------------------------------------------
    def start(self, ctx: Ctx, confidence: float = 1.0) -> Turn:
        """我要举报… (a private chat only: bot.dialogue.flows): the story told with it, or before it, taken up."""
        if not self._allowed(ctx):
            return turn(TOO_MANY, TOPIC, confidence=confidence)
        ctx.state.enter("tip", "region")
        draft = ctx.state.secret = new_draft()
        rest = story_of(ctx.norm)
        case = ctx.state.fresh_case()
        ctx.state.case = None  # what they described now belongs to the tip's sealed draft, or to nothing
        ctx.state.data.pop(PLAIN_CASE, None)
        if rest:  # the story came with the request: take what it tells, show it in the summary
            draft["first"] = ctx.text
            read_story(draft, ctx.text, rest, self.offices)
        elif case is not None and case.get("text"):  # 我要举报他们 after a story: offer it, never file it silently
            draft["description"], draft["prefill_pending"] = case["text"], True
            self._pick_up(ctx, draft, case["text"], region=True)
            return self._ask(ctx, INTRO + PREFILL.format(clip(case["text"])), "description", ["对", "重新说"],
                             confidence)
        return self._ask_next(ctx, INTRO, confidence)

    def keeps(self, ctx: Ctx) -> bool:
        """A message that reads like a cancel but answers the slot: 不想说 when asked for a name."""
        return ctx.state.step == "contact" and NO_NAME.search(ctx.norm) is not None and "举报" not in ctx.norm

    def resume(self, ctx: Ctx) -> Turn:
        """"继续举报" after a question in the middle: the slot it stopped at, asked again."""
        draft = draft_of(ctx)
        if ctx.state.step == "edit":
            return self._ask(ctx, "要改哪一项？", "edit", [*EDITABLE, "全部重填"])
        if draft.get("prefill_pending") and draft.get("description"):  # the story offered is still to be confirmed
            return self._ask(ctx, "好的，我们接着填。\n" + PREFILL.format(clip(draft["description"])), "description",
                             ["对", "重新说"])
        return self._ask_next(ctx, "好的，我们接着填。\n")

    def _allowed(self, ctx: Ctx, reserve: bool = False) -> bool:
        return tip_allowed(ctx, self.per_day, self.per_address_per_day, self.address_hash, reserve)

    # -- stepping ---------------------------------------------------------------------------------
    def step(self, ctx: Ctx) -> Turn:
        draft = draft_of(ctx)
        slot = ctx.state.step or "region"
        norm = ctx.norm.strip(" 。.!！")
        if slot == "evidence" and ctx.msg.kind == "image":
            if not ctx.msg.media:  # the platform would not hand the picture over
                return self._ask(ctx, "这张图片没收到，请再发一次；实在发不了，就用文字说明。", "evidence", ["跳过"])
            return self._image(ctx, draft)
        if slot == "edit":
            return self._edit(ctx, draft, norm)
        if slot == "contact":
            return self._contact(ctx, draft, norm)
        if slot == "confirm":
            return self._confirm(ctx, draft, norm)
        if is_complaint(norm):  # "我刚才不是说了吗" is never a value
            if from_story(draft, slot, self.offices):
                return self._ask_next(ctx, "抱歉，是我没看仔细，已经从您前面的话里记下了。\n")
            return self._ask(ctx, f"抱歉，您前面的话里我没找到{SLOT_NAMES.get(slot, '这一项')}。"
                             "麻烦直接告诉我；不知道就回复“不知道”。", slot, ["不知道"] if slot in OPTIONAL else [])
        if slot in OPTIONAL and norm in DONE_WORDS:
            draft.setdefault(slot, None)
            draft[f"{slot}_done"] = True
            return self._ask_next(ctx)
        return self._fill(ctx, draft, slot, norm) or self._ask_next(ctx)

    def _fill(self, ctx: Ctx, draft: dict[str, Any], slot: str, norm: str) -> Turn | None:
        """The answer put in its slot; a Turn when it must be asked again (None: on to the next slot)."""
        text = ctx.text
        if slot == "subject":
            draft["subject"] = "（不清楚）" if norm in SKIP_WORDS else text
            if norm not in SKIP_WORDS:
                self._pick_up(ctx, draft, text)
        elif slot == "region":
            office = None if norm in SKIP_WORDS | {UNKNOWN_PLACE} else self.offices.resolve(text)
            draft["region"] = (office or self.offices.city).code
            draft["region_text"] = text
        elif slot == "description":
            return self._describe(ctx, draft, norm)
        elif slot == "amount":
            draft["amount_text"], draft["amount"] = text, amount_answer(text)
            draft["amount_done"] = True
        elif slot == "participants":
            if is_money_not_people(text) and (amount := amount_answer(text)) is not None:
                # money given where the head count was asked ("三十万"): it is the amount, not 300,000 people
                draft["amount"], draft["amount_text"], draft["amount_done"] = amount, text, True
                return self._ask(ctx, "金额记下了：" + text + "。这里想问的是大概有多少人投了钱？"
                                 "（例如“三十多人”，不清楚回复“跳过”）", "participants")
            draft["participants_text"], draft["participants"] = text, participants_answer(text)
            draft["participants_done"] = True
        elif slot == "evidence":
            draft["evidence_notes"].append(text)
            draft["evidence_done"] = True
        return None

    def _describe(self, ctx: Ctx, draft: dict[str, Any], norm: str) -> Turn | None:
        """What happened: the story offered from before confirmed (对), refused (重新说) or replaced; or typed."""
        if draft.pop("prefill_pending", False):
            if norm in YES_WORDS:
                return self._ask_next(ctx, "好的，就按这段记。\n")
            if norm in ("重新说", "不对", "不是", "重说", "不用这段"):
                draft.pop("description", None)
                return self._ask(ctx, PROMPTS["description"], "description")
        elif len(norm) < 4:
            return self._ask(ctx, "能再多说几句吗？比如他们承诺了什么、怎么拉人。", "description")
        draft["description"] = ctx.text  # what they typed (instead of the story offered) is the description
        self._pick_up(ctx, draft, ctx.text)
        return None

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
        draft["contact"] = contact_answer(norm, ctx.text)
        if draft["contact"] is None:
            return self._ask(ctx, "请回复“匿名”，或者回复姓名和手机号（例如：张三 13800000000）。", "contact")
        return self._ask_next(ctx)

    def _confirm(self, ctx: Ctx, draft: dict[str, Any], norm: str) -> Turn:
        if norm in ("修改", "改一下", "要改", "改"):
            return self._ask(ctx, "要改哪一项？", "edit", [*EDITABLE, "全部重填"])
        if norm in ("重填", "重新填", "全部重填"):
            ctx.state.secret = new_draft()
            return self._ask(ctx, "好的，我们重新填一遍。\n" + PROMPTS["region"], "region", self._county_buttons())
        if norm not in ("确认", "确定", "提交", "对", "是", "好", "ok", "确认提交"):
            return self._ask(ctx, "请回复“确认”提交，“修改”重新填写，或“取消”放弃。", "confirm",
                             ["确认", "修改", "取消"])
        if not self.service.can_seal(ctx.session):  # no office key yet: keep the draft, never store it in clear
            log.error("tip not filed: no office key", extra={"error_type": "NoOfficeKey"})
            city = self.offices.city
            return self._ask(ctx, NO_KEY.format(name=city.name, phone=city.contacts.phone), "confirm", ["确认", "取消"])
        if not self._allowed(ctx, reserve=True):
            ctx.state.leave()
            return turn(TOO_MANY, TOPIC)
        filed = self.service.file(ctx.session, draft, channel=ctx.msg.channel, chat_user=ctx.msg.user)
        ctx.after_commit.append(lambda: self.service.notify(filed))
        ctx.state.leave()  # nothing in the conversation keeps which tip it filed
        office = self.offices.get(filed.office_code) or self.offices.city
        return turn(filed_text(office.name, filed.urgent, filed.receipt), TOPIC,
                    buttons=["举报会泄露身份吗", "举报有奖励吗"], receipt=filed.receipt)

    def after_unsubscribe(self, ctx: Ctx, topic: str) -> Turn:
        """After 退订 typed mid-tip: the pushes are stopped; ask whether to drop the tip or go on."""
        asked = self._ask_next(ctx, "已为您退订，以后不会再给您推送提醒。\n您正在填写的举报还没有提交："
                               "要放弃这次举报，请回复“取消”，填写的内容会全部删除；想接着填，直接回答下面的问题。\n\n")
        reply = asked.replies[0]
        buttons = tuple(b.label for b in reply.buttons if b.label != "取消")
        return turn(reply.text, topic, buttons=["取消", *buttons], expects=asked.expects)

    # -- asking -----------------------------------------------------------------------------------
    def _ask_next(self, ctx: Ctx, prefix: str = "", confidence: float = 1.0) -> Turn:
        draft = ctx.state.secret or {}
        slot = next_slot(draft)
        if slot == "confirm":
            return self._ask(ctx, prefix + summary(draft, self.offices), "confirm", ["确认", "修改", "取消"],
                             confidence)
        buttons = self._county_buttons() if slot == "region" else (
            ["跳过"] if slot in OPTIONAL else (["匿名"] if slot == "contact" else []))
        return self._ask(ctx, prefix + PROMPTS[slot], slot, buttons, confidence)

    def _ask(self, ctx: Ctx, text: str, slot: str, buttons: list[str] | None = None,
             confidence: float = 1.0) -> Turn:
        ctx.state.step = slot
        return turn(text, TOPIC, buttons=buttons or [], expects=slot, confidence=confidence)

    def _county_buttons(self) -> list[str]:
        return [o.area for o in self.offices.counties] + [UNKNOWN_PLACE]
