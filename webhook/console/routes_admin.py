"""Staff and offices (admins): list, add, deactivate or reactivate, re-issue TOTP; office key status."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.offices import Office
from bot.staff import admindesk, roles
from bot.staff.accounts import Issued, StaffError
from bot.staff.credentials import WeakPassword
from bot.store.console_models import StaffAccount
from webhook.console.context import PATH, Console, ConsoleError, ConsoleRoute, Ctx

router = APIRouter(prefix=PATH + "/admin", route_class=ConsoleRoute, include_in_schema=False)


def _admin(ctx: Ctx) -> None:
    if not roles.at_least(ctx.staff, "admin"):
        raise ConsoleError(403, "只有管理员可以管理人员和单位。")


def _manageable_offices(ctx: Ctx) -> list[Office]:
    offices = ctx.st.kit.labels.offices
    return [o for o in [offices.city, *offices.counties] if roles.can_manage_staff(ctx.staff, o.code, ctx.desk.city)]


def _staff_page(ctx: Ctx, status: int = 200, error: str | None = None, issued: Issued | None = None) -> HTMLResponse:
    return ctx.render("staff.html", status, people=admindesk.staff(ctx.desk), error=error, issued=issued,
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
    if not roles.can_manage_staff(ctx.staff, office, ctx.desk.city):
        return _staff_page(ctx, 403, "您不能为这个单位添加人员。")
    try:
        issued = admindesk.add_staff(ctx.desk, username=username, display_name=display_name, office=office,
                                     role=role, password=password, totp=bool(totp))
    except (StaffError, WeakPassword) as exc:
        return _staff_page(ctx, 400, str(exc))
    return _staff_page(ctx, issued=issued)


def _managed(ctx: Ctx, staff_id: int) -> StaffAccount:
    _admin(ctx)
    return admindesk.managed(ctx.desk, staff_id)


@router.post("/staff/{staff_id}/active")
def set_active(staff_id: Annotated[int, Path(ge=1, le=2**31 - 1)], ctx: Ctx = Console,
               active: Annotated[str, Form(max_length=4)] = "") -> Response:
    """Deactivate (ends their sessions) or reactivate an account."""
    account = _managed(ctx, staff_id)
    admindesk.set_active(ctx.desk, account, active == "1")
    ctx.flash(f"{account.display_name}：{'已启用' if active == '1' else '已停用'}。")
    return RedirectResponse(f"{PATH}/admin/staff", 303)


@router.post("/staff/{staff_id}/totp")
def reset_totp(staff_id: Annotated[int, Path(ge=1, le=2**31 - 1)], ctx: Ctx = Console) -> Response:
    """Issue a new TOTP secret (shown once); the old one stops working and their sessions end."""
    account = _managed(ctx, staff_id)
    issued = admindesk.reset_totp(ctx.desk, account)
    return _staff_page(ctx, issued=issued)


@router.get("/offices")
def offices_page(ctx: Ctx = Console) -> HTMLResponse:
    """Each office: its key (development or production), its staff count."""
    _admin(ctx)
    rows, counts = admindesk.offices(ctx.desk)
    return ctx.render("offices.html", offices=_manageable_offices(ctx), rows=rows, counts=counts)
