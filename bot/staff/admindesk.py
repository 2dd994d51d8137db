"""Staff and offices, for admins: list, add, deactivate or reactivate, re-issue TOTP (each audited);
office key status and staff counts."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.staff import roles
from bot.staff.accounts import Issued, StaffError
from bot.staff.credentials import WeakPassword
from bot.staff.desk import Desk, DeskError
from bot.store.console_models import StaffAccount
from bot.store.models import Office


def staff(desk: Desk) -> list[StaffAccount]:
    """The staff of the offices this person sees."""
    return desk.kit.directory.list(desk.uow.session, desk.scope)


def add_staff(desk: Desk, *, username: str, display_name: str, office: str, role: str, password: str,
              totp: bool) -> Issued:
    """A new account (its TOTP secret is shown once); StaffError or WeakPassword says why not."""
    try:
        issued = desk.kit.directory.add(desk.uow.session, username=username, display_name=display_name,
                                        office_code=office, role=role, password=password, totp=totp)
    except (StaffError, WeakPassword):
        desk.rollback()
        raise
    desk.audited("staff_add", reason=f"{issued.account.username} {role}")
    return issued


def managed(desk: Desk, staff_id: int) -> StaffAccount:
    """An account this admin manages; the same refusal when it does not exist."""
    account = desk.kit.directory.get(desk.uow.session, staff_id)
    if account is None or not roles.can_manage_staff(desk.staff, account.office_code, desk.city):
        raise DeskError("missing", "没有这个人员。")
    return account


def set_active(desk: Desk, account: StaffAccount, active: bool) -> None:
    """Deactivate (their sessions end) or reactivate an account, never one's own."""
    if account.id == desk.staff.id:
        raise DeskError("invalid", "不能停用自己的账号。")
    desk.kit.directory.set_active(desk.uow.session, account, active)
    desk.audited("staff_active" if active else "staff_deactivate", reason=account.username)


def reset_totp(desk: Desk, account: StaffAccount) -> Issued:
    """A new TOTP secret (shown once); the old one stops working and their sessions end."""
    issued = desk.kit.directory.reset_totp(desk.uow.session, account)
    desk.audited("staff_totp_reset", reason=account.username)
    return issued


def offices(desk: Desk) -> tuple[dict[str, Office], dict[str, int]]:
    """Each office as stored (its key), and how many active staff it has."""
    session = desk.uow.session
    rows = {o.code: o for o in session.scalars(select(Office))}
    counts = dict(session.execute(select(StaffAccount.office_code, func.count())
                                  .where(StaffAccount.active.is_(True)).group_by(StaffAccount.office_code)).all())
    return rows, counts
