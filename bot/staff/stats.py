"""Figures for the dashboard: tips per week by category and county, urgency, time to first action."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.staff.labels import Labels, local
from bot.staff.queue import local_day_start, scoped
from bot.store.console_models import TipCase
from bot.store.models import Tip, utcnow

# Time to first action, in buckets a person reads at a glance.
BUCKETS = (("4小时内", 4), ("1天内", 24), ("3天内", 72), ("7天内", 168), ("超过7天", None))
WAITING = "尚未处理"


@dataclass
class Dashboard:
    weeks: list[date]                                   # Mondays, oldest first
    by_category: dict[str, list[int]] = field(default_factory=dict)
    by_county: dict[str, list[int]] = field(default_factory=dict)
    urgent: list[int] = field(default_factory=list)
    normal: list[int] = field(default_factory=list)
    first_action: dict[str, int] = field(default_factory=dict)       # bucket → tips
    median_hours: dict[str, float | None] = field(default_factory=dict)  # county → median hours
    total: int = 0
    open_tips: int = 0


def _aware_hours(start: datetime, end: datetime) -> float:
    start, end = local(start), local(end)
    return (end - start).total_seconds() / 3600


def dashboard(session: Session, labels: Labels, offices: frozenset[str] | None, weeks: int = 12,
              today: date | None = None) -> Dashboard:
    today = today or local(utcnow()).date()
    monday = today - timedelta(days=today.weekday())
    mondays = [monday - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
    board = Dashboard(mondays)
    index = {m: i for i, m in enumerate(mondays)}
    query = scoped(select(Tip, TipCase).outerjoin(TipCase, TipCase.tip_id == Tip.id), offices)
    query = query.where(Tip.created_at >= local_day_start(mondays[0]))
    by_cat: dict[str, list[int]] = defaultdict(lambda: [0] * weeks)
    by_county: dict[str, list[int]] = defaultdict(lambda: [0] * weeks)
    board.urgent, board.normal = [0] * weeks, [0] * weeks
    waits: dict[str, list[float]] = defaultdict(list)
    buckets: Counter[str] = Counter()
    for tip, case in session.execute(query).all():
        created = local(tip.created_at)
        week = created.date() - timedelta(days=created.weekday())
        i = index.get(week)
        if i is None:
            continue
        board.total += 1
        board.open_tips += tip.status != "closed"
        by_cat[labels.category(tip.category)][i] += 1
        by_county[labels.area(tip.office_code)][i] += 1
        (board.urgent if tip.urgent else board.normal)[i] += 1
        if case is None or case.first_action_at is None:
            buckets[WAITING] += 1
            continue
        hours = _aware_hours(tip.created_at, case.first_action_at)
        waits[labels.area(tip.office_code)].append(hours)
        buckets[next(name for name, limit in BUCKETS if limit is None or hours <= limit)] += 1
    order = [c.label for c in labels.categories.categories]
    board.by_category = {k: by_cat[k] for k in order if k in by_cat}
    areas = [labels.area(o.code) for o in [labels.offices.city, *labels.offices.counties]]
    board.by_county = {k: by_county[k] for k in areas if k in by_county}
    board.first_action = {name: buckets[name] for name, _ in BUCKETS} | {WAITING: buckets[WAITING]}
    board.median_hours = {a: (round(statistics.median(waits[a]), 1) if waits[a] else None)
                          for a in areas if a in by_county}
    return board


def campaign_reach(session: Session, offices: frozenset[str] | None, since: date) -> dict[str, int] | None:
    """Campaign messages delivered since a day, by target group; None while the campaign tables are absent.

    Read through the table's metadata (the campaign part owns it), inside a savepoint so that a database
    not yet migrated for campaigns cannot break the dashboard.
    """
    from sqlalchemy import func
    from sqlalchemy.exc import SQLAlchemyError

    from bot.store.schema import metadata
    from bot.store.subscribers import AUDIENCES

    table = metadata.tables.get("deliveries")
    if table is None or not {"audience", "state", "sent_at", "county"} <= set(table.c.keys()):
        return None
    query = (select(table.c.audience, func.count()).where(table.c.state == "sent")
             .where(table.c.sent_at >= local_day_start(since)).group_by(table.c.audience))
    if offices is not None:
        query = query.where(table.c.county.in_(offices))
    try:
        with session.begin_nested():
            rows = session.execute(query).all()
    except SQLAlchemyError:
        return None
    counts: dict[str, int] = {audience: n for audience, n in rows}
    return {label: int(counts.get(code, 0)) for code, label in AUDIENCES.items()}
