"""The tip queue: metadata only, filtered, urgent first, scoped to what the person may see."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVarTuple

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from bot.staff.labels import zone
from bot.staff.worklist import Deadlines, order_by, overdue_clause
from bot.store.console_models import TipCase
from bot.store.models import Tip

Cols = TypeVarTuple("Cols")  # the columns a query selects


@dataclass(frozen=True)
class QueueFilter:
    status: str = ""
    category: str = ""
    office: str = ""
    urgency: str = ""          # "urgent" | "normal" | ""
    since: date | None = None  # local dates, inclusive
    until: date | None = None
    assigned: str = ""         # "me" | "none" | ""
    order: str = "urgent"      # a key of worklist.ORDERS
    overdue: bool = False      # only overdue tips (worklist.overdue)
    ids: frozenset[int] | None = None  # only these (the matches of a text search)
    deadlines: Deadlines = field(default_factory=Deadlines)


def local_day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, zone()).astimezone(UTC)


def scoped(query: Select[*Cols], offices: frozenset[str] | None) -> Select[*Cols]:
    return query if offices is None else query.where(Tip.office_code.in_(offices))


def _filtered(query: Select[*Cols], f: QueueFilter, me: int | None,
              with_status: bool = True) -> Select[*Cols]:
    if with_status and f.status:
        query = query.where(Tip.status == f.status)
    if f.category:
        query = query.where(Tip.category == f.category)
    if f.office:
        query = query.where(Tip.office_code == f.office)
    if f.urgency in ("urgent", "normal"):
        query = query.where(Tip.urgent.is_(f.urgency == "urgent"))
    if f.since:
        query = query.where(Tip.created_at >= local_day_start(f.since))
    if f.until:
        query = query.where(Tip.created_at < local_day_start(f.until + timedelta(days=1)))
    if f.assigned == "me" and me is not None:
        query = query.where(TipCase.assigned_to == me)
    elif f.assigned == "none":
        query = query.where(TipCase.assigned_to.is_(None))
    if f.overdue:
        query = query.where(overdue_clause(f.deadlines))
    if f.ids is not None:
        query = query.where(Tip.id.in_(sorted(f.ids)))
    return query


def page(session: Session, offices: frozenset[str] | None, f: QueueFilter, me: int | None,
         limit: int = 50, offset: int = 0) -> tuple[list[tuple[Tip, TipCase | None]], int]:
    """One page of the queue (by default urgent first, newest first) and the total number of matching tips."""
    base = scoped(select(Tip, TipCase).outerjoin(TipCase, TipCase.tip_id == Tip.id), offices)
    base = _filtered(base, f, me)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.execute(base.order_by(*order_by(f.order)).limit(limit).offset(offset)).all()
    return [(r[0], r[1]) for r in rows], total


def status_counts(session: Session, offices: frozenset[str] | None, f: QueueFilter, me: int | None) -> dict[str, int]:
    """Tips per status under every filter except the status itself."""
    query = scoped(select(Tip.status, func.count()).select_from(Tip)
                   .outerjoin(TipCase, TipCase.tip_id == Tip.id), offices)
    query = _filtered(query, f, me, with_status=False).group_by(Tip.status)
    return {status: count for status, count in session.execute(query).all()}
