"""The queue as a clerk works it: filters, order, text search, overdue tips, subjects once the key is
unlocked, taking a tip, likely duplicates and merging them (the use cases: bot/staff/queuedesk.py)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.staff import queue, queuedesk, worklist
from bot.tips.service import STATUS_LABELS
from webhook.console.context import PATH, Console, ConsoleRoute, Ctx
from webhook.console.routes_tips import TipId

router = APIRouter(prefix=PATH, route_class=ConsoleRoute, include_in_schema=False)
PAGE = queuedesk.PAGE


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


@router.get("/")
def queue_page(request: Request, ctx: Ctx = Console) -> HTMLResponse:
    """The tip queue: metadata, and each tip's subject once the key is unlocked; search, order, overdue."""
    f = _filter(request, ctx)
    text = request.query_params.get("q", "").strip()[:100]
    note = None
    if text:
        f, note = queuedesk.search(ctx.desk, f, text)
    try:
        page_no = max(1, min(10_000, int(request.query_params.get("page", "1"))))
    except ValueError:
        page_no = 1
    view = queuedesk.queue_view(ctx.desk, f, page_no, ctx.queue_seen())
    query = {k: v for k, v in request.query_params.items() if k != "page"}
    return ctx.render("queue.html", rows=view.rows, total=view.total, counts=view.counts, f=f, names=view.names,
                      page=page_no, pages=max(1, -(-view.total // PAGE)), query=query, statuses=STATUS_LABELS,
                      text=text, note=note, subjects=view.subjects, alike=view.alike, late=view.late,
                      orders=worklist.ORDERS, can_take=view.can_take)


@router.post("/tips/{tip_id}/take")
def take(tip_id: TipId, ctx: Ctx = Console, back: Annotated[str, Form(max_length=16)] = "") -> Response:
    """Take an unassigned tip: it becomes the handler's own (any member of the tip's office)."""
    level, message = queuedesk.take(ctx.desk, tip_id)
    ctx.flash(message, level)
    return RedirectResponse(f"{PATH}/" if back == "queue" else f"{PATH}/tips/{tip_id}", 303)


@router.get("/duplicates")
def duplicates(ctx: Ctx = Console) -> HTMLResponse:
    """Open tips whose subjects look alike (opened in memory with the key; one audit row)."""
    groups, compared = queuedesk.duplicates(ctx.desk)
    return ctx.render("duplicates.html", groups=groups, compared=compared)


@router.post("/tips/{tip_id}/merge")
def merge(tip_id: TipId, ctx: Ctx = Console, into: Annotated[str, Form(max_length=10)] = "") -> Response:
    """Close this tip as a duplicate of tip `into` (both must be workable here)."""
    main_id, error = queuedesk.merge(ctx.desk, tip_id, into)
    if main_id is None:
        ctx.flash(error or "", "error")
        return RedirectResponse(f"{PATH}/duplicates", 303)
    ctx.flash(f"线索#{tip_id}已并入#{main_id}。")
    return RedirectResponse(f"{PATH}/tips/{main_id}", 303)


@router.get("/tips/{tip_id}/print")
def print_view(tip_id: TipId, ctx: Ctx = Console) -> HTMLResponse:
    """One tip on paper: the content (when unlocked, audited), the case record; no identity, no buttons."""
    return ctx.render("print.html", **vars(queuedesk.print_view(ctx.desk, tip_id)))
