"""Exports: the monthly county-to-city report of new tips (每月定期上报) and the risk ledger (风险台账).

Rows hold metadata, plus the subject, amount and head count when the office key is unlocked (each
such tip is opened through `reader`, which audits it). Never the tipster's identity.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.staff.labels import Labels, clean_text, fmt
from bot.staff.queue import local_day_start, scoped
from bot.store.console_models import StaffAccount, TipCase
from bot.store.models import Tip

Reader = Callable[[Tip], dict[str, Any] | None]
MONTHLY = ("序号", "线索编号", "收到时间", "县区", "类别", "紧急", "实名举报", "当前状态", "风险标记",
           "涉及主体", "涉及金额（元）", "参与人数", "人数原话", "承办人")
LEDGER = ("线索编号", "登记日期", "县区", "类别", "紧急", "风险标记", "涉及主体", "涉及金额（元）", "参与人数",
          "人数原话", "当前状态", "承办人", "首次处理", "最近更新", "结案日期")
LOCKED = "（未解锁）"
# What a spreadsheet takes as the start of a formula, ASCII and full-width (Excel and WPS read ＝ as =).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


@dataclass
class Report:
    title: str
    header: tuple[str, ...]
    rows: list[list[Any]]
    summary: list[list[Any]] = field(default_factory=list)


def month_bounds(month: date) -> tuple[date, date]:
    first = month.replace(day=1)
    nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return first, nxt


def _tips(session: Session, offices: frozenset[str] | None, since: date | None = None,
          until: date | None = None) -> list[tuple[Tip, TipCase | None, str | None]]:
    query = scoped(select(Tip, TipCase, StaffAccount.display_name)
                   .outerjoin(TipCase, TipCase.tip_id == Tip.id)
                   .outerjoin(StaffAccount, StaffAccount.id == TipCase.assigned_to), offices)
    if since:
        query = query.where(Tip.created_at >= local_day_start(since))
    if until:
        query = query.where(Tip.created_at < local_day_start(until))
    return [(r[0], r[1], r[2]) for r in session.execute(query.order_by(Tip.office_code, Tip.created_at, Tip.id))]


def _content_cells(content: dict[str, Any] | None) -> list[Any]:
    if content is None:
        return [LOCKED, "", "", ""]
    amount = content.get("amount")
    people = content.get("participants")
    return [content.get("subject") or "",
            amount if isinstance(amount, int) else (content.get("amount_text") or ""),
            people if isinstance(people, int) else "",  # a number a spreadsheet can add up
            content.get("participants_text") or ""]     # and the person's own words beside it


def monthly(session: Session, labels: Labels, offices: frozenset[str] | None, month: date,
            reader: Reader) -> Report:
    """The new tips of one month (local time), county by county, with a summary by county and category."""
    first, nxt = month_bounds(month)
    rows: list[list[Any]] = []
    per: Counter[tuple[str, str, bool]] = Counter()
    for n, (tip, _case, assignee) in enumerate(_tips(session, offices, first, nxt), start=1):
        rows.append([n, tip.id, fmt(tip.created_at), labels.area(tip.office_code), labels.category(tip.category),
                     "是" if tip.urgent else "否", "是" if tip.real_name else "否", labels.status(tip.status),
                     labels.flag_list(tip.flags), *_content_cells(reader(tip)), assignee or ""])
        per[(labels.area(tip.office_code), labels.category(tip.category), tip.urgent)] += 1
    summary: list[list[Any]] = [["县区", "类别", "线索数", "其中紧急"]]
    for area, category in sorted({(a, c) for a, c, _ in per}):
        summary.append([area, category, per[(area, category, False)] + per[(area, category, True)],
                        per[(area, category, True)]])
    summary.append(["合计", "", len(rows), sum(v for (_, _, u), v in per.items() if u)])
    return Report(f"非法集资线索月报 {first:%Y年%m月}", MONTHLY, rows, summary)


def ledger(session: Session, labels: Labels, offices: frozenset[str] | None, reader: Reader) -> Report:
    """Every tip in scope with its current state: the office's risk ledger (风险台账)."""
    rows = []
    for tip, case, assignee in _tips(session, offices):
        content = _content_cells(reader(tip))
        rows.append([tip.id, fmt(tip.created_at, "%Y-%m-%d"), labels.area(tip.office_code),
                     labels.category(tip.category), "是" if tip.urgent else "否", labels.flag_list(tip.flags),
                     *content, labels.status(tip.status), assignee or "",
                     fmt(case.first_action_at if case else None), fmt(tip.updated_at),
                     fmt(tip.closed_at, "%Y-%m-%d")])
    return Report("非法集资风险台账", LEDGER, rows)


def _safe(value: Any) -> Any:
    """Text without control characters; text that a spreadsheet would run as a formula is kept as text."""
    if isinstance(value, str):
        value = clean_text(value)
        if value.lstrip(" ").startswith(_FORMULA_START):
            return "'" + value
    return value


def text_width(value: Any) -> int:
    """Columns a value takes in a spreadsheet: a Chinese character is two, a Latin letter or digit one."""
    text = f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value or "")
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def fit_columns(sheet: Any, widest: int = 50) -> None:
    """Each column as wide as its longest cell (up to `widest`; longer text wraps in its cell)."""
    for column in sheet.iter_cols():
        need = max((text_width(c.value) for c in column), default=0)
        sheet.column_dimensions[column[0].column_letter].width = min(widest, max(8, need + 2))
        if need > widest:
            for cell in column[1:]:
                cell.alignment = Alignment(wrap_text=True, vertical="top")


def to_csv(report: Report) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(report.header)
    writer.writerows([[_safe(v) for v in row] for row in report.rows])
    return out.getvalue().encode("utf-8-sig")  # the BOM lets Excel read UTF-8


def to_xlsx(report: Report) -> bytes:
    wb = Workbook()
    sheet = wb.worksheets[0]  # the one a new workbook opens on (its active sheet)
    sheet.title = "线索明细"
    sheet.append(list(report.header))
    for row in report.rows:
        sheet.append([_safe(v) for v in row])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    fit_columns(sheet)
    if report.summary:
        summary = wb.create_sheet("汇总")
        for row in report.summary:
            summary.append([_safe(v) for v in row])
        for cell in summary[1]:
            cell.font = Font(bold=True)
        fit_columns(summary)
    wb.properties.title = report.title
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
