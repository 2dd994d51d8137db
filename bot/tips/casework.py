"""Working a tip: the status workflow, assignment, sealed notes, replies (opening it: bot.tips.opening).

    new ─► checking ─► to_police ───┐
                  ├──► to_regulator ┼─► verified ─┐
                  ├──────────────────┼─► unfounded ┴─► closed ─(supervisor: reopen)─► checking
                  └──────────────────┘
Every status change carries a reason. Reasons and notes are sealed to the same offices as the tip;
the clear history (tip_events) holds only kinds, actors, statuses and times.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store.console_models import StaffAccount, TipCase
from bot.store.models import AuditEntry, Tip, TipEvent, TipSeal, utcnow
from bot.tips.keys import public_keys
from bot.tips.sealing import fingerprint, seal_json
from bot.tips.service import STATUS_LABELS, TipService

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("checking",),
    "checking": ("to_police", "to_regulator", "verified", "unfounded"),
    "to_police": ("verified", "unfounded"),
    "to_regulator": ("verified", "unfounded"),
    "verified": ("closed",),
    "unfounded": ("closed",),
    "closed": ("checking",),  # reopening: supervisors only
}
MAX_REASON = 500
MAX_NOTE = 2000


class CaseError(ValueError):
    """A case action that is not allowed; the message says why (Chinese, for staff)."""


def seal_like_tip(session: Session, tip: Tip, part: str, obj: Any) -> None:
    """Seal to every office the tip's content is sealed to (its county, and the city when urgent)."""
    codes = set(session.scalars(select(TipSeal.office_code).where(TipSeal.tip_id == tip.id,
                                                                  TipSeal.part == "content")))
    keys = public_keys(session)
    for code in sorted(codes):
        if code in keys:
            session.add(TipSeal(tip_id=tip.id, office_code=code, part=part, ciphertext=seal_json(keys[code], obj),
                                key_fp=fingerprint(keys[code])))


def case_for(session: Session, tip_id: int) -> TipCase:
    case = session.get(TipCase, tip_id)
    if case is None:
        case = TipCase(tip_id=tip_id)
        session.add(case)
    return case


def _acted(session: Session, tip: Tip) -> None:
    case = case_for(session, tip.id)
    if case.first_action_at is None:
        case.first_action_at = utcnow()
    case.updated_at = tip.updated_at = utcnow()


def _text(value: str, limit: int, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise CaseError(f"请填写{what}")
    if len(value) > limit:
        raise CaseError(f"{what}太长了（{limit}字以内）")
    return value


def allowed_next(status: str, may_reopen: bool) -> tuple[str, ...]:
    return tuple(s for s in TRANSITIONS.get(status, ()) if status != "closed" or may_reopen)


def change_status(session: Session, tip: Tip, to: str, reason: str, actor: str, *, may_reopen: bool = False) -> None:
    """Move a tip along the workflow, with a reason (sealed like the tip)."""
    if to not in allowed_next(tip.status, may_reopen):
        raise CaseError(f"不能从“{STATUS_LABELS.get(tip.status, tip.status)}”改为“{STATUS_LABELS.get(to, to)}”")
    reason = _text(reason, MAX_REASON, "理由")
    event = TipEvent(tip_id=tip.id, kind="status", actor=actor, detail=f"{tip.status}>{to}")
    session.add(event)
    session.flush()
    seal_like_tip(session, tip, "note", {"kind": "status", "event": event.id, "text": reason, "by": actor,
                                         "at": utcnow().isoformat(), "from": tip.status, "to": to})
    tip.status = to
    tip.closed_at = utcnow() if to == "closed" else None
    session.add(AuditEntry(actor=actor, action="status", tip_id=tip.id, reason=event.detail))
    _acted(session, tip)


def assign(session: Session, tip: Tip, assignee: StaffAccount | None, actor: str) -> None:
    case = case_for(session, tip.id)
    case.assigned_to = assignee.id if assignee else None
    detail = assignee.username if assignee else "-"
    session.add(TipEvent(tip_id=tip.id, kind="assign", actor=actor, detail=detail))
    session.add(AuditEntry(actor=actor, action="assign", tip_id=tip.id, reason=detail))
    _acted(session, tip)


def add_note(session: Session, tip: Tip, text: str, actor: str) -> None:
    text = _text(text, MAX_NOTE, "备注")
    event = TipEvent(tip_id=tip.id, kind="note", actor=actor)
    session.add(event)
    session.flush()
    seal_like_tip(session, tip, "note", {"kind": "note", "event": event.id, "text": text, "by": actor,
                                         "at": utcnow().isoformat()})
    _acted(session, tip)


def reply(session: Session, tips: TipService, tip: Tip, text: str, actor: str) -> TipEvent:
    """Relay a message to the tipster (delivered at the next receipt check unless pushed); keep a sealed copy."""
    text = _text(text, MAX_REASON, "回复内容")
    tips.relay_reply(session, tip, text, actor)
    session.flush()
    event = session.scalars(select(TipEvent).where(TipEvent.tip_id == tip.id, TipEvent.kind == "reply")
                            .order_by(TipEvent.id.desc()).limit(1)).one()
    seal_like_tip(session, tip, "note", {"kind": "reply", "event": event.id, "text": text, "by": actor,
                                         "at": utcnow().isoformat()})
    session.add(AuditEntry(actor=actor, action="reply", tip_id=tip.id))
    _acted(session, tip)
    return event


def history(session: Session, tip_id: int) -> list[TipEvent]:
    return list(session.scalars(select(TipEvent).where(TipEvent.tip_id == tip_id).order_by(TipEvent.id)))
