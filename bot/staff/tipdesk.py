"""The tip page's use cases: open a tip (audited), its evidence, status, assignment, notes, the identity
reveal, and a reply to the tipster (stored, then pushed by the web layer when it can be)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from bot.staff import roles
from bot.staff.desk import Desk, DeskError
from bot.store.console_models import StaffAccount, TipCase
from bot.store.models import AuditEntry, Office, Tip, TipEvent
from bot.tips import casework, opening
from bot.tips.service import TipService


@dataclass
class TipView:
    """Everything the tip page shows."""

    tip: Tip
    opened: opening.Opened | None
    sealed_here: bool
    case: TipCase | None
    assignee: StaffAccount | None
    events: list[TipEvent]
    notes: dict[Any, dict[str, Any]]
    can_work: bool
    can_assign: bool
    can_reveal: bool
    assignees: list[StaffAccount]
    next_statuses: tuple[str, ...]
    reveals: list[AuditEntry]
    dev_key: bool


def assignees(desk: Desk, tip: Tip) -> list[StaffAccount]:
    """Who the tip may be given to: active staff of its office (and of the city when urgent)."""
    offices = {tip.office_code} | ({desk.city} if tip.urgent else set())
    return desk.kit.directory.list(desk.uow.session, frozenset(offices), active_only=True)


def _open(desk: Desk, tip: Tip, **how: Any) -> opening.Opened | None:
    """The tip opened with the session's key (audited, committed), when unlocked and sealed here."""
    if desk.key is None or not opening.is_sealed_for(desk.uow.session, tip.id, desk.office):
        return None
    opened = opening.open_tip(desk.uow.session, tip, desk.key, desk.office, desk.actor, **how)
    desk.commit()
    return opened


def tip_view(desk: Desk, tip: Tip, *, reveal_reason: str | None = None) -> TipView:
    """One tip: content and evidence when the key is unlocked (each opening audited), history, actions."""
    session, staff = desk.uow.session, desk.staff
    sealed_here = opening.is_sealed_for(session, tip.id, desk.office)
    opened = _open(desk, tip, reveal=reveal_reason is not None, reason=reveal_reason or "")
    case = session.get(TipCase, tip.id)
    may_reopen = roles.at_least(staff, "supervisor")
    reveals = list(session.scalars(select(AuditEntry).where(
        AuditEntry.tip_id == tip.id, AuditEntry.action == "reveal_identity").order_by(AuditEntry.id))) \
        if may_reopen else []
    office = session.get(Office, desk.office)
    return TipView(
        tip=tip, opened=opened, sealed_here=sealed_here, case=case,
        assignee=session.get(StaffAccount, case.assigned_to) if case and case.assigned_to else None,
        events=casework.history(session, tip.id), notes={n.get("event"): n for n in (opened.notes if opened else [])},
        can_work=roles.can_work(staff, tip, desk.city), can_assign=roles.can_assign(staff, tip, desk.city),
        can_reveal=roles.can_reveal(staff, tip, desk.city, desk.settings.reveal_roles),
        assignees=assignees(desk, tip), next_statuses=casework.allowed_next(tip.status, may_reopen),
        reveals=reveals, dev_key=bool(office and office.development_key))


def evidence(desk: Desk, tip_id: int, seal_id: int) -> tuple[bytes, str]:
    """An evidence image (bytes, mime), opened with the session's key (audited)."""
    tip = desk.tip(tip_id)
    if desk.key is None:
        raise DeskError("forbidden", "请先解锁本单位密钥。")
    found = opening.evidence_image(desk.uow.session, tip, desk.key, desk.office, seal_id)
    if found is None:
        raise DeskError("missing", "没有这张图片。")
    desk.audited("open_evidence", tip.id, str(seal_id))
    return found


def _case_action(desk: Desk, act: Any) -> str | None:
    """Run one case action in the unit of work: committed, or rolled back with the reason (for staff)."""
    try:
        act()
    except casework.CaseError as exc:
        desk.rollback()
        return str(exc)
    desk.commit()
    return None


def change_status(desk: Desk, tip_id: int, to: str, reason: str) -> str | None:
    """Move the tip along the workflow, with a reason; None when done, else why not."""
    tip = desk.workable(tip_id)
    may_reopen = roles.at_least(desk.staff, "supervisor")
    return _case_action(desk, lambda: casework.change_status(desk.uow.session, tip, to, reason, desk.actor,
                                                             may_reopen=may_reopen))


def assign(desk: Desk, tip_id: int, staff_id: str) -> str | None:
    """Assign the tip to a colleague (supervisors), or unassign it; None when done, else why not."""
    tip = desk.tip(tip_id)
    if not roles.can_assign(desk.staff, tip, desk.city):
        raise DeskError("forbidden", "只有负责人可以分派线索。")
    choices = {str(a.id): a for a in assignees(desk, tip)}
    if staff_id and staff_id not in choices:
        return "只能分派给本单位在岗的同事。"
    casework.assign(desk.uow.session, tip, choices.get(staff_id), desk.actor)
    desk.commit()
    return None


def add_note(desk: Desk, tip_id: int, text: str) -> str | None:
    """An internal note, sealed like the tip; None when done, else why not."""
    tip = desk.workable(tip_id)
    return _case_action(desk, lambda: casework.add_note(desk.uow.session, tip, text, desk.actor))


def may_reveal(desk: Desk, tip_id: int) -> Tip:
    """The tip whose real-name tipster this person may reveal now (role, real name, unlocked key)."""
    tip = desk.workable(tip_id)
    if not tip.real_name:
        raise DeskError("invalid", "这是匿名举报，没有可查看的身份。")
    if not roles.can_reveal(desk.staff, tip, desk.city, desk.settings.reveal_roles):
        raise DeskError("forbidden", "只有负责人可以查看实名举报人的身份。")
    if desk.key is None:
        raise DeskError("forbidden", "请先解锁本单位密钥。")
    return tip


def record_reply(desk: Desk, tips: TipService, tip_id: int, text: str,
                 push_channels: Collection[str]) -> tuple[int, tuple[str, str] | None] | str:
    """Store a reply to the tipster: (event id, the chat to push it to, if any), or why it was refused."""
    tip = desk.workable(tip_id)
    try:
        event = casework.reply(desk.uow.session, tips, tip, text, desk.actor)
    except casework.CaseError as exc:
        desk.rollback()
        return str(exc)
    target = None
    if desk.key is not None and tip.channel in push_channels:
        target = opening.relay_target(desk.uow.session, tip, desk.key, desk.office)
    desk.commit()
    return event.id, target


def reply_delivered(desk: Desk, event_id: int, tip_id: int) -> None:
    """The reply reached the tipster's chat: marked, and audited."""
    event = desk.uow.session.get(TipEvent, event_id)
    if event is not None:
        event.delivered = True
        desk.audited("reply_pushed", tip_id)
