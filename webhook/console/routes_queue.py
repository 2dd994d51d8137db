"""The queue as a clerk works it: filters, order, text search, overdue tips, subjects once the key is
unlocked, taking a tip, likely duplicates and merging them."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.staff import queue, roles, worklist
from bot.store.console_models import TipCase
from bot.store.models import AuditEntry, Tip, utcnow
from bot.textnorm import ascii_digits
from bot.tips import casework, opening
from bot.tips.service import STATUS_LABELS
from webhook.console.context import PATH, Console, ConsoleError, ConsoleRoute, Ctx
from webhook.console.routes_tips import TipId, _tip, _workable

router = APIRouter(prefix=PATH, route_class=ConsoleRoute, include_in_schema=False)
PAGE = 50
MAX_SEARCHED = 2000  # tips opened in memory for one text search or one duplicate check
QUEUE_REASON = "队列显示涉及主体"


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def deadlines(ctx: Ctx) -> worklist.Deadlines:
    s = ctx.services.settings
    return worklist.Deadlines(s.console_first_action_days, s.console_open_days)


def _filter(request: Request, ctx: Ctx) -> queue.QueueFilter:
    q = request.query_params
    labels = ctx.st.kit.labels
    offices = {o.code for o in labels.offices.offices}
    return queue.QueueFilter(
        status=q.get("status", "") if q.get("status", "") in STATUS_LABELS else "",
        category=q.get("category", "") if q.get("category", "") in {c.code for c in labels.categories.categories}
        else "",
        office=q.get("office", "") if q.get("office", "") in offices else "",
        urgency=q.get("urgency", "") if q.get("urgency", "") in ("urgent", "normal") else "",
        since=_date(q.get("since", "")), until=_date(q.get("until", "")),
        assigned=q.get("assigned", "") if q.get("assigned", "") in ("me", "none") else "",
        order=q.get("sort", "") if q.get("sort", "") in worklist.ORDERS else "urgent",
        overdue=q.get("overdue") == "1", deadlines=deadlines(ctx))


def _search(ctx: Ctx, f: queue.QueueFilter, text: str) -> tuple[queue.QueueFilter, str | None]:
    """The filter narrowed to the tips whose own words contain `text`, and a note for the page."""
    number = text.lstrip("#＃")
    if ascii_digits(number) and len(number) < 10:
        return replace(f, ids=frozenset({int(number)})), None
    key = ctx.key()
    if key is None:
        return f, "内容是加密的：解锁本单位密钥后才能按内容搜索；现在只能按编号查找（例如 #12）。"
    candidates, _ = queue.page(ctx.session, ctx.scope, f, ctx.staff.id, MAX_SEARCHED, 0)
    opened = worklist.contents(ctx.session, [t.id for t, _ in candidates], key, ctx.staff.office_code)
    found = frozenset(i for i, content in opened.items() if worklist.matches(content, text))
    ctx.session.add(AuditEntry(actor=ctx.actor, action="search", reason=f"在{len(opened)}条线索的内容中搜索"))
    ctx.session.commit()
    note = f"只搜索了最近的 {MAX_SEARCHED} 条。" if len(candidates) >= MAX_SEARCHED else None
    return replace(f, ids=found), note


def subjects(ctx: Ctx, tips: list[Tip]) -> dict[int, str]:
    """Subjects of the listed tips sealed to this office, once the key is unlocked; each tip's first
    showing in a session is audited as an opening."""
    key = ctx.key()
    if key is None:
        return {}
    opened = worklist.contents(ctx.session, [t.id for t in tips], key, ctx.staff.office_code)
    seen = ctx.st.queue_seen.setdefault(ctx.current.session_id, set())
    for tip_id in sorted(set(opened) - seen):
        ctx.session.add(AuditEntry(actor=ctx.actor, action="open", tip_id=tip_id, reason=QUEUE_REASON))
    seen |= set(opened)
    ctx.session.commit()
    return {i: str(c.get("subject") or "") for i, c in opened.items()}


@router.get("/")
def queue_page(request: Request, ctx: Ctx = Console) -> HTMLResponse:
    """The tip queue: metadata, and each tip's subject once the key is unlocked; search, order, overdue."""
    f = _filter(request, ctx)
    text = request.query_params.get("q", "").strip()[:100]
    note = None
    if text:
        f, note = _search(ctx, f, text)
    try:
        page_no = max(1, min(10_000, int(request.query_params.get("page", "1"))))
    except ValueError:
        page_no = 1
    rows, total = queue.page(ctx.session, ctx.scope, f, ctx.staff.id, PAGE, (page_no - 1) * PAGE)
    counts = queue.status_counts(ctx.session, ctx.scope, f, ctx.staff.id)
    names = {a.id: a.display_name for a in ctx.st.kit.directory.list(ctx.session, ctx.scope)}
    late = {tip.id: why for tip, case in rows if (why := worklist.overdue(tip, case, f.deadlines))}
    query = {k: v for k, v in request.query_params.items() if k != "page"}
    shown = subjects(ctx, [t for t, _ in rows])
    open_ids = {t.id for t, _ in rows if t.status in worklist.OPEN}
    alike = {i: [j for j in group if j != i] for group in
             worklist.duplicate_groups({i: s for i, s in shown.items() if i in open_ids}) for i in group}
    return ctx.render("queue.html", rows=rows, total=total, counts=counts, f=f, names=names, page=page_no,
                      pages=max(1, -(-total // PAGE)), query=query, statuses=STATUS_LABELS, text=text, note=note,
                      subjects=shown, alike=alike, late=late, orders=worklist.ORDERS,
                      can_take={t.id for t, c in rows if roles.can_work(ctx.staff, t, ctx.city)
                                and not (c and c.assigned_to) and t.status in worklist.OPEN})


@router.post("/tips/{tip_id}/take")
def take(tip_id: TipId, ctx: Ctx = Console, back: Annotated[str, Form(max_length=16)] = "") -> Response:
    """Take an unassigned tip: it becomes the handler's own (any member of the tip's office)."""
    tip = _workable(ctx, tip_id)
    case = ctx.session.get(TipCase, tip.id)
    if case and case.assigned_to and case.assigned_to != ctx.staff.id:
        ctx.flash(f"线索#{tip.id}已有承办人，请找负责人改派。", "error")
    elif tip.status not in worklist.OPEN:
        ctx.flash(f"线索#{tip.id}已经办结。", "error")
    else:
        casework.assign(ctx.session, tip, ctx.staff, ctx.actor)
        ctx.session.commit()
        ctx.flash(f"线索#{tip.id}由您承办。")
    return RedirectResponse(f"{PATH}/" if back == "queue" else f"{PATH}/tips/{tip.id}", 303)


@router.get("/duplicates")
def duplicates(ctx: Ctx = Console) -> HTMLResponse:
    """Open tips whose subjects look alike (opened in memory with the key; one audit row)."""
    key = ctx.key()
    if key is None:
        raise ConsoleError(403, "查重要比对加密的内容：请先解锁本单位密钥。")
    rows, _ = queue.page(ctx.session, ctx.scope, queue.QueueFilter(order="oldest"), ctx.staff.id, MAX_SEARCHED, 0)
    tips = {t.id: t for t, _ in rows if t.status in worklist.OPEN and roles.can_work(ctx.staff, t, ctx.city)}
    opened = worklist.contents(ctx.session, list(tips), key, ctx.staff.office_code)
    found = worklist.duplicate_groups({i: str(c.get("subject") or "") for i, c in opened.items()})
    ctx.session.add(AuditEntry(actor=ctx.actor, action="search", reason=f"查重：比对{len(opened)}条线索"))
    ctx.session.commit()
    groups = [[(tips[i], opened[i]) for i in group] for group in found]
    return ctx.render("duplicates.html", groups=groups, compared=len(opened))


@router.post("/tips/{tip_id}/merge")
def merge(tip_id: TipId, ctx: Ctx = Console, into: Annotated[str, Form(max_length=10)] = "") -> Response:
    """Close this tip as a duplicate of tip `into` (both must be workable here)."""
    dup = _workable(ctx, tip_id)
    number = into.strip().lstrip("#＃")
    if not (ascii_digits(number) and 0 < len(number) < 10):
        ctx.flash("请填写要并入的线索编号。", "error")
        return RedirectResponse(f"{PATH}/duplicates", 303)
    main = _workable(ctx, int(number))
    try:
        worklist.merge(ctx.session, main, dup, ctx.actor)
    except casework.CaseError as exc:
        ctx.session.rollback()
        ctx.flash(str(exc), "error")
        return RedirectResponse(f"{PATH}/duplicates", 303)
    ctx.session.commit()
    ctx.flash(f"线索#{dup.id}已并入#{main.id}。")
    return RedirectResponse(f"{PATH}/tips/{main.id}", 303)


@router.get("/tips/{tip_id}/print")
def print_view(tip_id: TipId, ctx: Ctx = Console) -> HTMLResponse:
    """One tip on paper: the content (when unlocked, audited), the case record; no identity, no buttons."""
    tip = _tip(ctx, tip_id)
    key = ctx.key()
    opened = None
    if key is not None and opening.is_sealed_for(ctx.session, tip.id, ctx.staff.office_code):
        opened = opening.open_tip(ctx.session, tip, key, ctx.staff.office_code, ctx.actor, audit_reason="打印")
        ctx.session.commit()
    case = ctx.session.get(TipCase, tip.id)
    assignee = ctx.st.kit.directory.get(ctx.session, case.assigned_to) if case and case.assigned_to else None
    events = casework.history(ctx.session, tip.id)
    notes = {n.get("event"): n for n in (opened.notes if opened else [])}
    return ctx.render("print.html", tip=tip, opened=opened, assignee=assignee, events=events, notes=notes,
                      printed_at=utcnow())
