"""The queue's use cases as a clerk works it: a page of tips (subjects once the key is unlocked, each first
showing audited), text search, taking a tip, likely duplicates and merging them, the print view."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from bot.staff import queue, roles, worklist
from bot.staff.desk import Desk, DeskError
from bot.store.console_models import StaffAccount, TipCase
from bot.store.models import Tip, TipEvent, utcnow
from bot.textnorm import ascii_digits
from bot.tips import casework, opening

PAGE = 50
MAX_SEARCHED = 2000  # tips opened in memory for one text search or one duplicate check
QUEUE_REASON = "队列显示涉及主体"


def search(desk: Desk, f: queue.QueueFilter, text: str) -> tuple[queue.QueueFilter, str | None]:
    """The filter narrowed to the tips whose own words contain `text` (audited), and a note for the page."""
    number = text.lstrip("#＃")
    if ascii_digits(number) and len(number) < 10:
        return replace(f, ids=frozenset({int(number)})), None
    if desk.key is None:
        return f, "内容是加密的：解锁本单位密钥后才能按内容搜索；现在只能按编号查找（例如 #12）。"
    session = desk.uow.session
    candidates, _ = queue.page(session, desk.scope, f, desk.staff.id, MAX_SEARCHED, 0)
    opened = worklist.contents(session, [t.id for t, _ in candidates], desk.key, desk.office)
    found = frozenset(i for i, content in opened.items() if worklist.matches(content, text))
    desk.audited("search", reason=f"在{len(opened)}条线索的内容中搜索")
    note = f"只搜索了最近的 {MAX_SEARCHED} 条。" if len(candidates) >= MAX_SEARCHED else None
    return replace(f, ids=found), note


def subjects(desk: Desk, tips: list[Tip], seen: set[int]) -> dict[int, str]:
    """Subjects of the listed tips sealed to this office, once the key is unlocked; a tip not in `seen`
    (those shown before in this session) is audited as an opening, and added to it."""
    if desk.key is None:
        return {}
    opened = worklist.contents(desk.uow.session, [t.id for t in tips], desk.key, desk.office)
    for tip_id in sorted(set(opened) - seen):
        desk.audit("open", tip_id, QUEUE_REASON)
    seen |= set(opened)
    desk.commit()
    return {i: str(c.get("subject") or "") for i, c in opened.items()}


@dataclass
class QueueView:
    rows: list[tuple[Tip, TipCase | None]]
    total: int
    counts: dict[str, int]
    names: dict[int, str]
    late: dict[int, str]
    subjects: dict[int, str]
    alike: dict[int, list[int]]
    can_take: set[int]


def queue_view(desk: Desk, f: queue.QueueFilter, page_no: int, seen: set[int]) -> QueueView:
    """One page of the queue, with counts by status, overdue tips, subjects and likely duplicates."""
    session, me = desk.uow.session, desk.staff.id
    rows, total = queue.page(session, desk.scope, f, me, PAGE, (page_no - 1) * PAGE)
    counts = queue.status_counts(session, desk.scope, f, me)
    names = {a.id: a.display_name for a in desk.kit.directory.list(session, desk.scope)}
    late = {tip.id: why for tip, case in rows if (why := worklist.overdue(tip, case, f.deadlines))}
    shown = subjects(desk, [t for t, _ in rows], seen)
    open_ids = {t.id for t, _ in rows if t.status in worklist.OPEN}
    alike = {i: [j for j in group if j != i] for group in
             worklist.duplicate_groups({i: s for i, s in shown.items() if i in open_ids}) for i in group}
    can_take = {t.id for t, c in rows if roles.can_work(desk.staff, t, desk.city)
                and not (c and c.assigned_to) and t.status in worklist.OPEN}
    return QueueView(rows, total, counts, names, late, shown, alike, can_take)


def take(desk: Desk, tip_id: int) -> tuple[str, str]:
    """Take an unassigned tip (any member of its office): (level, message) for the page."""
    tip = desk.workable(tip_id)
    case = desk.uow.session.get(TipCase, tip.id)
    if case and case.assigned_to and case.assigned_to != desk.staff.id:
        return "error", f"线索#{tip.id}已有承办人，请找负责人改派。"
    if tip.status not in worklist.OPEN:
        return "error", f"线索#{tip.id}已经办结。"
    casework.assign(desk.uow.session, tip, desk.staff, desk.actor)
    desk.commit()
    return "ok", f"线索#{tip.id}由您承办。"


def duplicates(desk: Desk) -> tuple[list[list[tuple[Tip, dict[str, Any]]]], int]:
    """Open tips whose subjects look alike (opened in memory with the key; one audit row), and how many
    were compared."""
    if desk.key is None:
        raise DeskError("forbidden", "查重要比对加密的内容：请先解锁本单位密钥。")
    session = desk.uow.session
    rows, _ = queue.page(session, desk.scope, queue.QueueFilter(order="oldest"), desk.staff.id, MAX_SEARCHED, 0)
    tips = {t.id: t for t, _ in rows if t.status in worklist.OPEN and roles.can_work(desk.staff, t, desk.city)}
    opened = worklist.contents(session, list(tips), desk.key, desk.office)
    found = worklist.duplicate_groups({i: str(c.get("subject") or "") for i, c in opened.items()})
    desk.audited("search", reason=f"查重：比对{len(opened)}条线索")
    return [[(tips[i], opened[i]) for i in group] for group in found], len(opened)


def merge(desk: Desk, dup_id: int, into: str) -> tuple[int | None, str | None]:
    """Close tip `dup_id` as a duplicate of tip `into`: (the tip merged into, None), or (None, why not)."""
    dup = desk.workable(dup_id)
    number = into.strip().lstrip("#＃")
    if not (ascii_digits(number) and 0 < len(number) < 10):
        return None, "请填写要并入的线索编号。"
    main = desk.workable(int(number))
    try:
        worklist.merge(desk.uow.session, main, dup, desk.actor)
    except casework.CaseError as exc:
        desk.rollback()
        return None, str(exc)
    desk.commit()
    return main.id, None


@dataclass
class PrintView:
    tip: Tip
    opened: opening.Opened | None
    assignee: StaffAccount | None
    events: list[TipEvent]
    notes: dict[Any, dict[str, Any]]
    printed_at: datetime


def print_view(desk: Desk, tip_id: int) -> PrintView:
    """One tip on paper: the content (when unlocked, audited), the case record; no identity."""
    tip = desk.tip(tip_id)
    session = desk.uow.session
    opened = None
    if desk.key is not None and opening.is_sealed_for(session, tip.id, desk.office):
        opened = opening.open_tip(session, tip, desk.key, desk.office, desk.actor, audit_reason="打印")
        desk.commit()
    case = session.get(TipCase, tip.id)
    assignee = desk.kit.directory.get(session, case.assigned_to) if case and case.assigned_to else None
    notes = {n.get("event"): n for n in (opened.notes if opened else [])}
    return PrintView(tip, opened, assignee, casework.history(session, tip.id), notes, utcnow())
