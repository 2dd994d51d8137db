"""The supervisors' views: the audit log (who opened which tip, who revealed an identity and why, sign-ins,
exports), the reports exported (each export audited, each tip read for it audited) and the dashboard."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select

from bot.staff import reports, stats
from bot.staff.desk import Desk
from bot.store.console_models import StaffAccount
from bot.store.models import AuditEntry, Tip
from bot.textnorm import ascii_digits
from bot.tips import opening

AUDIT_PAGE = 100


def _reader(desk: Desk, why: str) -> reports.Reader:
    """Reads a tip's content for an export (audited), when the key is unlocked."""
    key = desk.key

    def read(tip: Tip) -> dict[str, Any] | None:
        if key is None:
            return None
        return opening.read_content(desk.uow.session, tip, key, desk.office, desk.actor, why)

    return read


def monthly(desk: Desk, first: date, kind: str) -> reports.Report:
    """The monthly report of new tips (每月定期上报), audited as an export."""
    report = reports.monthly(desk.uow.session, desk.kit.labels, desk.scope, first, _reader(desk, "月报导出"))
    desk.audited("export_monthly", reason=f"{first:%Y-%m} {kind}")
    return report


def ledger(desk: Desk, kind: str) -> reports.Report:
    """The risk ledger (风险台账): every tip in scope and where it stands, audited as an export."""
    report = reports.ledger(desk.uow.session, desk.kit.labels, desk.scope, _reader(desk, "风险台账导出"))
    desk.audited("export_ledger", reason=kind)
    return report


@dataclass
class AuditPage:
    rows: list[AuditEntry]
    total: int
    pages: int


def audit_page(desk: Desk, action: str, actor: str, tip_id: str, page_no: int) -> AuditPage:
    """One page of the audit log in scope, filtered by action, actor (username or name) and tip number."""
    query = select(AuditEntry)
    if desk.scope is not None:
        tips = select(Tip.id).where(Tip.office_code.in_(desk.scope))
        people = select(StaffAccount.username).where(StaffAccount.office_code.in_(desk.scope))
        query = query.where(or_(AuditEntry.tip_id.in_(tips), AuditEntry.actor.in_(people)))
    if action:
        query = query.where(AuditEntry.action == action)
    if actor:  # a username, or the name people know each other by
        by_name = {name: user for user, name in desk.people().items()}
        query = query.where(AuditEntry.actor == by_name.get(actor, actor))
    if ascii_digits(tip_id) and len(tip_id) < 10:
        query = query.where(AuditEntry.tip_id == int(tip_id))
    session = desk.uow.session
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(AuditEntry.id.desc()).limit(AUDIT_PAGE)
                           .offset((page_no - 1) * AUDIT_PAGE)).all()
    return AuditPage(list(rows), total, max(1, -(-total // AUDIT_PAGE)))


def dashboard(desk: Desk) -> tuple[stats.Dashboard, dict[str, int] | None]:
    """The dashboard's figures in scope, and the campaigns' reach over the same weeks (None: no campaigns)."""
    board = stats.dashboard(desk.uow.session, desk.kit.labels, desk.scope)
    return board, stats.campaign_reach(desk.uow.session, desk.scope, board.weeks[0])
