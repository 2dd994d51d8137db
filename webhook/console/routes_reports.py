"""Reports (monthly county-to-city report, risk ledger) as CSV and XLSX, the audit log, the dashboard."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from bot.staff import auditlog, reports, roles
from bot.staff.labels import local
from bot.store.models import utcnow
from webhook.console import charts
from webhook.console.context import PATH, Console, ConsoleError, ConsoleRoute, Ctx

router = APIRouter(prefix=PATH, route_class=ConsoleRoute, include_in_schema=False)
TYPES = {"csv": "text/csv; charset=utf-8",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _this_month() -> date:
    return local(utcnow()).date().replace(day=1)


def _month(text: str) -> date | None:
    try:
        year, month = text.split("-")
        return date(int(year), int(month), 1)
    except ValueError:
        return None


def _exporter(ctx: Ctx) -> None:
    if not roles.can_export(ctx.staff):
        raise ConsoleError(403, "只有负责人可以导出报表。")


@router.get("/reports")
def reports_page(ctx: Ctx = Console) -> HTMLResponse:
    """Choose a month and download the reports."""
    _exporter(ctx)
    return ctx.render("reports.html", month=_this_month().strftime("%Y-%m"))


def _download(report: reports.Report, kind: str, filename: str) -> Response:
    body = reports.to_csv(report) if kind == "csv" else reports.to_xlsx(report)
    disposition = f"attachment; filename=\"{filename}.{kind}\"; filename*=UTF-8''{quote(filename)}.{kind}"
    return Response(body, media_type=TYPES[kind], headers={"Content-Disposition": disposition})


@router.post("/reports/monthly")
def monthly(ctx: Ctx = Console, month: Annotated[str, Form(max_length=7)] = "",
            kind: Annotated[str, Form(max_length=4)] = "csv") -> Response:
    """The monthly report of new tips (每月定期上报), CSV or XLSX."""
    _exporter(ctx)
    first = _month(month)
    if first is None or kind not in TYPES:
        raise ConsoleError(400, "请选择月份（YYYY-MM）和格式（CSV 或 XLSX）。")
    report = auditlog.monthly(ctx.desk, first, kind)
    return _download(report, kind, f"fundguard-monthly-{ctx.staff.office_code}-{first:%Y-%m}")


@router.post("/reports/ledger")
def ledger(ctx: Ctx = Console, kind: Annotated[str, Form(max_length=4)] = "csv") -> Response:
    """The risk ledger (风险台账): every tip in scope and where it stands, CSV or XLSX."""
    _exporter(ctx)
    if kind not in TYPES:
        raise ConsoleError(400, "格式只能是 CSV 或 XLSX。")
    report = auditlog.ledger(ctx.desk, kind)
    return _download(report, kind, f"fundguard-ledger-{ctx.staff.office_code}-{local(utcnow()):%Y%m%d}")


@router.get("/audit")
def audit_page(request: Request, ctx: Ctx = Console) -> HTMLResponse:
    """The audit log: who opened which tip, who revealed an identity and why, sign-ins, exports."""
    if not roles.can_read_audit(ctx.staff):
        raise ConsoleError(403, "只有负责人可以查看审计日志。")
    q = request.query_params
    action, actor, tip_id = q.get("action", "")[:32], q.get("actor", "")[:64], q.get("tip", "")
    try:
        page_no = max(1, min(10_000, int(q.get("page", "1"))))
    except ValueError:
        page_no = 1
    found = auditlog.audit_page(ctx.desk, action, actor, tip_id, page_no)
    return ctx.render("audit.html", rows=found.rows, total=found.total, page=page_no, pages=found.pages,
                      action=action, actor=actor, tip=tip_id, query={k: v for k, v in q.items() if k != "page"})


@router.get("/dashboard")
def dashboard(ctx: Ctx = Console) -> HTMLResponse:
    """Charts drawn on the server as SVG: tips per week by category and county, urgency, first action."""
    board, reach = auditlog.dashboard(ctx.desk)
    weeks = [f"{m:%m/%d}" for m in board.weeks]
    return ctx.render(
        "dashboard.html", board=board,
        by_category=charts.stacked_bars(weeks, board.by_category, "按类别：每周新线索"),
        by_county=charts.stacked_bars(weeks, board.by_county, "按县区：每周新线索"),
        urgency=charts.stacked_bars(weeks, {"紧急": board.urgent, "一般": board.normal}, "紧急程度：每周新线索",
                                    colours=("#c0392b", "#9db4d0")),
        first_action=charts.hbars(list(board.first_action.items()), "首次处理用时（线索数）"),
        medians=charts.hbars([(k, v) for k, v in board.median_hours.items() if v is not None],
                             "各县区首次处理用时中位数（小时）"),
        reach=None if reach is None else charts.hbars(list(reach.items()), "宣传推送送达人次（按人群）",
                                                      colour="#3a9d5d"))
