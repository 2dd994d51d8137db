"""Staff and offices (admins): list, add, deactivate or reactivate, re-issue TOTP; office key status."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select

from bot.offices import Office as DirectoryOffice
from bot.staff import roles
from bot.staff.accounts import Issued, StaffError
from bot.staff.credentials import WeakPassword
from bot.store.console_models import StaffAccount
from bot.store.models import AuditEntry, Office
from webhook.console.context import PATH, Console, ConsoleError, ConsoleRoute, Ctx

router = APIRouter(prefix=PATH + "/admin", route_class=ConsoleRoute, include_in_schema=False)


def _admin(ctx: Ctx) -> None:
    if not roles.at_least(ctx.staff, "admin"):
        raise ConsoleError(403, "只有管理员可以管理人员和单位。")


def _manageable_offices(ctx: Ctx) -> list[DirectoryOffice]:
    offices = ctx.st.kit.labels.offices
    return [o for o in [offices.city, *offices.counties] if roles.can_manage_staff(ctx.staff, o.code, ctx.city)]


def _staff_page(ctx: Ctx, status: int = 200, error: str | None = None, issued: Issued | None = None) -> HTMLResponse:
    people = ctx.st.kit.directory.list(ctx.session, ctx.scope)
    return ctx.render("staff.html", status, people=people, error=error, issued=issued,
                      offices=_manageable_offices(ctx), role_labels=roles.ROLE_LABELS)


@router.get("/staff")
def staff_page(ctx: Ctx = Console) -> HTMLResponse:
    """The staff of the offices this admin manages."""
    _admin(ctx)
    return _staff_page(ctx)


@router.post("/staff")
def add_staff(ctx: Ctx = Console, username: Annotated[str, Form(max_length=64)] = "",
              display_name: Annotated[str, Form(max_length=64)] = "",
              office: Annotated[str, Form(max_length=32)] = "", role: Annotated[str, Form(max_length=16)] = "",
              password: Annotated[str, Form(max_length=256)] = "",
              totp: Annotated[str, Form(max_length=4)] = "") -> Response:
    """Add a staff account; its TOTP secret is shown once."""
    _admin(ctx)
    if not roles.can_manage_staff(ctx.staff, office, ctx.city):
        return _staff_page(ctx, 403, "您不能为这个单位添加人员。")
    try:
        issued = ctx.st.kit.directory.add(ctx.session, username=username, display_name=display_name,
                                          office_code=office, role=role, password=password, totp=bool(totp))
    except (StaffError, WeakPassword) as exc:
        ctx.session.rollback()
        return _staff_page(ctx, 400, str(exc))
    ctx.session.add(AuditEntry(actor=ctx.actor, action="staff_add", reason=f"{issued.account.username} {role}"))
    ctx.session.commit()
    return _staff_page(ctx, issued=issued)


def _managed(ctx: Ctx, staff_id: int) -> StaffAccount:
    _admin(ctx)
    account = ctx.st.kit.directory.get(ctx.session, staff_id)
    if account is None or not roles.can_manage_staff(ctx.staff, account.office_code, ctx.city):
        raise ConsoleError(404, "没有这个人员。")
    return account


@router.post("/staff/{staff_id}/active")
def set_active(staff_id: Annotated[int, Path(ge=1, le=2**31 - 1)], ctx: Ctx = Console,
               active: Annotated[str, Form(max_length=4)] = "") -> Response:
    """Deactivate (ends their sessions) or reactivate an account."""
    account = _managed(ctx, staff_id)
    if account.id == ctx.staff.id:
        raise ConsoleError(400, "不能停用自己的账号。")
    ctx.st.kit.directory.set_active(ctx.session, account, active == "1")
    ctx.session.add(AuditEntry(actor=ctx.actor, action="staff_active" if active == "1" else "staff_deactivate",
                               reason=account.username))
    ctx.session.commit()
    ctx.flash(f"{account.display_name}：{'已启用' if active == '1' else '已停用'}。")
    return RedirectResponse(f"{PATH}/admin/staff", 303)


@router.post("/staff/{staff_id}/totp")
def reset_totp(staff_id: Annotated[int, Path(ge=1, le=2**31 - 1)], ctx: Ctx = Console) -> Response:
    """Issue a new TOTP secret (shown once); the old one stops working and their sessions end."""
    account = _managed(ctx, staff_id)
    issued = ctx.st.kit.directory.reset_totp(ctx.session, account)
    ctx.session.add(AuditEntry(actor=ctx.actor, action="staff_totp_reset", reason=account.username))
    ctx.session.commit()
    return _staff_page(ctx, issued=issued)


@router.get("/offices")
def offices_page(ctx: Ctx = Console) -> HTMLResponse:
    """Each office: its key (development or production), its staff count."""
    _admin(ctx)
    rows = {o.code: o for o in ctx.session.scalars(select(Office))}
    counts = dict(ctx.session.execute(select(StaffAccount.office_code, func.count())
                                      .where(StaffAccount.active.is_(True)).group_by(StaffAccount.office_code)).all())
    return ctx.render("offices.html", offices=_manageable_offices(ctx), rows=rows, counts=counts)
