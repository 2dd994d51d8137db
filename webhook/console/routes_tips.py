"""The tip page: open (audited), evidence, status, assignment, notes, replies, reveal (the queue: routes_queue)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from bot.staff import roles
from bot.store.console_models import StaffAccount, TipCase
from bot.store.models import AuditEntry, Office, Tip
from bot.tips import casework, opening
from bot.tips.service import STATUS_LABELS
from webhook.console.context import NOT_FOUND, PATH, Console, ConsoleError, ConsoleRoute, Ctx

router = APIRouter(prefix=PATH, route_class=ConsoleRoute, include_in_schema=False)
TipId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _tip(ctx: Ctx, tip_id: int) -> Tip:
    """The tip if this person may see it; the same 404 whether it does not exist or is out of scope."""
    tip = ctx.session.get(Tip, tip_id)
    if tip is None or not roles.can_see(ctx.staff, tip, ctx.city):
        raise ConsoleError(404, NOT_FOUND)
    return tip


def _workable(ctx: Ctx, tip_id: int) -> Tip:
    tip = _tip(ctx, tip_id)
    if not roles.can_work(ctx.staff, tip, ctx.city):
        raise ConsoleError(403, "这条线索由所属县区办理，您只能查看概要。")
    return tip


def _assignees(ctx: Ctx, tip: Tip) -> list[StaffAccount]:
    offices = {tip.office_code} | ({ctx.city} if tip.urgent else set())
    return ctx.st.kit.directory.list(ctx.session, frozenset(offices), active_only=True)


def _tip_page(ctx: Ctx, tip: Tip, *, reveal_reason: str | None = None, status: int = 200) -> HTMLResponse:
    key = ctx.key()
    sealed_here = opening.is_sealed_for(ctx.session, tip.id, ctx.staff.office_code)
    opened = None
    if key is not None and sealed_here:
        opened = opening.open_tip(ctx.session, tip, key, ctx.staff.office_code, ctx.actor,
                                   reveal=reveal_reason is not None, reason=reveal_reason or "")
        ctx.session.commit()
    case = ctx.session.get(TipCase, tip.id)
    assignee = ctx.session.get(StaffAccount, case.assigned_to) if case and case.assigned_to else None
    notes = {n.get("event"): n for n in (opened.notes if opened else [])}
    may_reopen = roles.at_least(ctx.staff, "supervisor")
    reveals = list(ctx.session.scalars(select(AuditEntry).where(
        AuditEntry.tip_id == tip.id, AuditEntry.action == "reveal_identity").order_by(AuditEntry.id))) \
        if may_reopen else []
    return ctx.render(
        "tip.html", status, tip=tip, opened=opened, sealed_here=sealed_here, case=case, assignee=assignee,
        events=casework.history(ctx.session, tip.id), notes=notes,
        can_work=roles.can_work(ctx.staff, tip, ctx.city), can_assign=roles.can_assign(ctx.staff, tip, ctx.city),
        can_reveal=roles.can_reveal(ctx.staff, tip, ctx.city, ctx.services.settings.reveal_roles),
        assignees=_assignees(ctx, tip), next_statuses=casework.allowed_next(tip.status, may_reopen),
        statuses=STATUS_LABELS, reveals=reveals, dev_key=bool((row := ctx.session.get(Office, ctx.staff.office_code))
                                             and row.development_key))


@router.get("/tips/{tip_id}")
def tip_page(tip_id: TipId, ctx: Ctx = Console) -> HTMLResponse:
    """One tip: content and evidence when the key is unlocked (each opening audited), history, actions."""
    return _tip_page(ctx, _tip(ctx, tip_id))


@router.get("/tips/{tip_id}/evidence/{seal_id}")
def evidence(tip_id: TipId, seal_id: TipId, ctx: Ctx = Console) -> Response:
    """An evidence image, opened with the session's key (audited)."""
    tip = _tip(ctx, tip_id)
    key = ctx.key()
    if key is None:
        raise ConsoleError(403, "请先解锁本单位密钥。")
    found = opening.evidence_image(ctx.session, tip, key, ctx.staff.office_code, seal_id)
    if found is None:
        raise ConsoleError(404, "没有这张图片。")
    ctx.session.add(AuditEntry(actor=ctx.actor, action="open_evidence", tip_id=tip.id, reason=str(seal_id)))
    ctx.session.commit()
    data, mime = found
    return Response(data, media_type=mime, headers={
        "Content-Security-Policy": "default-src 'none'; sandbox", "Content-Disposition": "inline",
        "Cache-Control": "no-store, private"})


def _back(tip: Tip) -> RedirectResponse:
    return RedirectResponse(f"{PATH}/tips/{tip.id}", 303)


@router.post("/tips/{tip_id}/status")
def set_status(tip_id: TipId, ctx: Ctx = Console, to: Annotated[str, Form(max_length=32)] = "",
               reason: Annotated[str, Form(max_length=4000)] = "") -> Response:
    """Move the tip along the workflow, with a reason."""
    tip = _workable(ctx, tip_id)
    try:
        casework.change_status(ctx.session, tip, to, reason, ctx.actor,
                               may_reopen=roles.at_least(ctx.staff, "supervisor"))
    except casework.CaseError as exc:
        ctx.session.rollback()
        ctx.flash(str(exc), "error")
        return _back(tip)
    ctx.session.commit()
    ctx.flash(f"状态已改为“{STATUS_LABELS[to]}”。")
    return _back(tip)


@router.post("/tips/{tip_id}/assign")
def set_assignee(tip_id: TipId, ctx: Ctx = Console, staff_id: Annotated[str, Form(max_length=12)] = "") -> Response:
    """Assign the tip to a colleague (supervisors)."""
    tip = _tip(ctx, tip_id)
    if not roles.can_assign(ctx.staff, tip, ctx.city):
        raise ConsoleError(403, "只有负责人可以分派线索。")
    choices = {str(a.id): a for a in _assignees(ctx, tip)}
    if staff_id and staff_id not in choices:
        ctx.flash("只能分派给本单位在岗的同事。", "error")
        return _back(tip)
    casework.assign(ctx.session, tip, choices.get(staff_id), ctx.actor)
    ctx.session.commit()
    ctx.flash("已分派。" if staff_id else "已取消分派。")
    return _back(tip)


@router.post("/tips/{tip_id}/note")
def add_note(tip_id: TipId, ctx: Ctx = Console, text: Annotated[str, Form(max_length=8000)] = "") -> Response:
    """An internal note, sealed like the tip."""
    tip = _workable(ctx, tip_id)
    try:
        casework.add_note(ctx.session, tip, text, ctx.actor)
    except casework.CaseError as exc:
        ctx.session.rollback()
        ctx.flash(str(exc), "error")
        return _back(tip)
    ctx.session.commit()
    ctx.flash("备注已加密保存。")
    return _back(tip)


@router.post("/tips/{tip_id}/reveal")
def reveal(tip_id: TipId, ctx: Ctx = Console, reason: Annotated[str, Form(max_length=2000)] = "",
           confirm: Annotated[str, Form(max_length=8)] = "") -> Response:
    """Show a real-name tipster's contact, once: the office's reveal role (supervisors by default), a stated
    reason, and a second confirmation (audited, visible to the office's supervisors)."""
    tip = _workable(ctx, tip_id)
    if not tip.real_name:
        raise ConsoleError(400, "这是匿名举报，没有可查看的身份。")
    if not roles.can_reveal(ctx.staff, tip, ctx.city, ctx.services.settings.reveal_roles):
        raise ConsoleError(403, "只有负责人可以查看实名举报人的身份。")
    if ctx.key() is None:
        raise ConsoleError(403, "请先解锁本单位密钥。")
    if not reason.strip():
        ctx.flash("查看举报人身份必须写明理由。", "error")
        return _back(tip)
    if confirm != "yes":  # the second confirmation: nothing is opened until it is given
        return ctx.render("reveal_confirm.html", tip=tip, reason=reason.strip())
    return _tip_page(ctx, tip, reveal_reason=reason.strip())
