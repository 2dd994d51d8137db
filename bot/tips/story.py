"""A tip told in one message: the slots it already fills, and what to do when the person says so again.

    "我要举报，旬阳市蜀河镇的旬阳鑫农生态合作社，入股一万每年分红两千，保本，一共收了两百多万，负责人叫陈某"
        region 旬阳市 · subject 旬阳鑫农生态合作社 · description (the story) · amount 两百多万 (a total,
        never the price of one share) · participants when a head count is said

Everything found is shown in the summary for the person to confirm or change (修改 → one field). A reply
that only complains about being asked again ("我刚才不是说了吗") is never stored as a slot value: the slot is
looked for in the story once more, and if it is not there the person is asked plainly.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

from bot.textnorm import normalise
from bot.tips.extract import extract_subject, parse_participants, parse_total_amount

COMPLAINT = re.compile(
    r"^(我|俺)?(刚才|刚刚|上面|前面|之前|已经|早就|不是)?(不是|都|已经|早)?(说|讲|写|告诉|发)(了|过)(吗|嘛|啊|呀|呢)?[!！?？。.]*$"
    r"|(刚才|上面|前面|之前)[^,，。]{0,6}(说|讲|写|告诉)(了|过)|说过了|都说了|不是说了|讲过了|写了呀|前面有"
)
MIN_STORY = 12  # characters after 我要举报 from which the first message is taken as the description
EDITABLE = {"地区": "region", "涉及对象": "subject", "情况": "description", "金额": "amount", "人数": "participants",
            "证据": "evidence", "身份": "contact"}
SLOT_NAMES = {v: k for k, v in EDITABLE.items()}


class Offices(Protocol):
    def resolve(self, text: str) -> Any: ...


def is_complaint(norm: str) -> bool:
    return COMPLAINT.search(norm.strip()) is not None


def read_story(draft: dict[str, Any], story: str, rest: str, offices: Offices) -> list[str]:
    """Fill the slots a first message already tells; returns the names of those filled."""
    found = []
    office = offices.resolve(story)
    if office is not None and "region" not in draft:
        draft["region"], draft["region_text"] = office.code, office.area
        found.append("region")
    subject = extract_subject(rest)
    if subject and not draft.get("subject"):
        draft["subject"] = subject
        found.append("subject")
    if len(normalise(rest)) >= MIN_STORY and not draft.get("description"):
        draft["description"] = story
        found.append("description")
    found += fill_numbers(draft, story)
    return found


def fill_numbers(draft: dict[str, Any], text: str) -> list[str]:
    """A total amount and a head count named in a text, when not already given."""
    found = []
    if draft.get("amount") is None and (amount := parse_total_amount(text)) is not None:
        draft["amount"], draft["amount_text"], draft["amount_done"] = amount, f"{amount}元（从描述中识别）", True
        found.append("amount")
    if draft.get("participants") is None and (n := parse_participants(text)) is not None:
        draft["participants"], draft["participants_done"] = n, True
        draft["participants_text"] = f"{n}人（从描述中识别）"
        found.append("participants")
    return found


def from_story(draft: dict[str, Any], slot: str, offices: Offices) -> bool:
    """After "我刚才说了": the slot looked for once more in what they told first; True when found."""
    story = draft.get("first") or draft.get("description") or ""
    if not story:
        return False
    if slot == "region":
        office = offices.resolve(story)
        if office is not None:
            draft["region"], draft["region_text"] = office.code, office.area
            return True
        return False
    if slot == "subject":
        subject = extract_subject(story)
        if subject:
            draft["subject"] = subject
        return bool(subject)
    if slot == "description" and len(normalise(story)) >= MIN_STORY:
        draft["description"] = story
        return True
    if slot in ("amount", "participants"):
        return slot in fill_numbers(draft, story)
    return False
