"""The tip page: open (audited), evidence, status, assignment, notes, replies, reveal (the queue: routes_queue)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.staff import tipdesk
from bot.store.models import Tip
from bot.tips.service import STATUS_LABELS
from webhook.console.context import PATH, Console, ConsoleRoute, Ctx

router = APIRouter(prefix=PATH, route_class=ConsoleRoute, include_in_schema=False)
TipId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _tip_page(ctx: Ctx, tip: Tip, *, reveal_reason: str | None = None, status: int = 200) -> HTMLResponse:
    view = tipdesk.tip_view(ctx.desk, tip, reveal_reason=reveal_reason)
    return ctx.render("tip.html", status, statuses=STATUS_LABELS, **vars(view))


@router.get("/tips/{tip_id}")
def tip_page(tip_id: TipId, ctx: Ctx = Console) -> HTMLResponse:
    """One tip: content and evidence when the key is unlocked (each opening audited), history, actions."""
    return _tip_page(ctx, ctx.desk.tip(tip_id))


@router.get("/tips/{tip_id}/evidence/{seal_id}")
def evidence(tip_id: TipId, seal_id: TipId, ctx: Ctx = Console) -> Response:
    """An evidence image, opened with the session's key (audited)."""
    data, mime = tipdesk.evidence(ctx.desk, tip_id, seal_id)
    return Response(data, media_type=mime, headers={
        "Content-Security-Policy": "default-src 'none'; sandbox", "Content-Disposition": "inline",
        "Cache-Control": "no-store, private"})


def _back(ctx: Ctx, tip_id: int, error: str | None, done: str) -> RedirectResponse:
    """Back to the tip page, with what happened (or why not) shown there."""
    if error:
        ctx.flash(error, "error")
    else:
        ctx.flash(done)
    return RedirectResponse(f"{PATH}/tips/{tip_id}", 303)


@router.post("/tips/{tip_id}/status")
def set_status(tip_id: TipId, ctx: Ctx = Console, to: Annotated[str, Form(max_length=32)] = "",
               reason: Annotated[str, Form(max_length=4000)] = "") -> Response:
    """Move the tip along the workflow, with a reason."""
    error = tipdesk.change_status(ctx.desk, tip_id, to, reason)
    return _back(ctx, tip_id, error, f"状态已改为“{STATUS_LABELS.get(to, to)}”。")


@router.post("/tips/{tip_id}/assign")
def set_assignee(tip_id: TipId, ctx: Ctx = Console, staff_id: Annotated[str, Form(max_length=12)] = "") -> Response:
    """Assign the tip to a colleague (supervisors)."""
    error = tipdesk.assign(ctx.desk, tip_id, staff_id)
    return _back(ctx, tip_id, error, "已分派。" if staff_id else "已取消分派。")


@router.post("/tips/{tip_id}/note")
def add_note(tip_id: TipId, ctx: Ctx = Console, text: Annotated[str, Form(max_length=8000)] = "") -> Response:
    """An internal note, sealed like the tip."""
    return _back(ctx, tip_id, tipdesk.add_note(ctx.desk, tip_id, text), "备注已加密保存。")


@router.post("/tips/{tip_id}/reveal")
def reveal(tip_id: TipId, ctx: Ctx = Console, reason: Annotated[str, Form(max_length=2000)] = "",
           confirm: Annotated[str, Form(max_length=8)] = "") -> Response:
    """Show a real-name tipster's contact, once: the office's reveal role (supervisors by default), a stated
    reason, and a second confirmation (audited, visible to the office's supervisors)."""
    tip = tipdesk.may_reveal(ctx.desk, tip_id)
    if not reason.strip():
        return _back(ctx, tip_id, "查看举报人身份必须写明理由。", "")
    if confirm != "yes":  # the second confirmation: nothing is opened until it is given
        return ctx.render("reveal_confirm.html", tip=tip, reason=reason.strip())
    return _tip_page(ctx, tip, reveal_reason=reason.strip())
