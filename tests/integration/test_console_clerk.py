"""The console as a county clerk uses it (issue 17, point 8): one time zone, whole flag labels, people's
names and Chinese status words in the records, head counts as a number and in the person's words,
readable XLSX columns, and a page (not JSON) for an unknown console address."""

from __future__ import annotations

import io
from datetime import datetime

from openpyxl import load_workbook
from sqlalchemy import update

from bot.staff.labels import fmt, use_zone
from bot.store.models import Tip
from tests.integration.test_chat_api import say
from tests.integration.test_console_security import (
    add_staff,
    console,  # noqa: F401  (fixture)
    last_tip_id,
    sign_in,
    unlock,
)
from tests.integration.test_console_work import post

ANSWERS = {"region": "石泉县", "subject": "石泉县鑫农生态合作社",
           "description": "入股一万每年分红两千，保本保息，还拉亲戚入股", "amount": "二十万左右",
           "participants": "三十多人", "evidence": "跳过", "contact": "匿名", "confirm": "确认"}


def file_tip(client, user: str) -> None:  # type: ignore[no-untyped-def]
    body = say(client, user, "我要举报")
    while body["expects"]:
        body = say(client, user, ANSWERS[body["expects"]])
    assert body["receipt"]


def test_the_tip_page_in_one_zone_with_whole_labels_names_and_head_count(console):  # noqa: F811
    client, svc = console
    file_tip(client, "clerk-1")
    tip_id = last_tip_id(svc)
    with svc.uow() as uow:  # filed at 23:30 UTC: already the next day in 北京时间
        uow.session.execute(update(Tip).where(Tip.id == tip_id).values(created_at=datetime(2026, 3, 1, 23, 30)))
        uow.commit()
    boss = add_staff(svc, "sq-boss", "shiquan", role="supervisor", totp=True)
    add_staff(svc, "sq-clerk", "shiquan")
    sign_in(client, "sq-clerk")
    unlock(client)
    with svc.uow() as uow:
        tip = uow.session.get(Tip, tip_id)
        svc.tips.add_information(uow.session, tip, text="他们周五还要开会")
        uow.commit()
    post(client, f"/console/tips/{tip_id}/status", to="checking", reason="开始核查")
    page = client.get(f"/console/tips/{tip_id}").text
    assert "2026-03-02 07:30（北京时间）" in page
    assert "承诺保本、保息、保底、无风险、稳赚不赔、到期还本、回购兜底" in page  # the whole label
    assert "约 30 人（原话：“三十多人”）" in page
    assert "Sq-Clerk（sq-clerk）" in page and "新收到 → 核查中" in page
    added = page.split('class="additions"')[1].split("</ul>")[0]
    assert "T" not in added.split('class="when">')[1][:16]  # a local time, not an ISO UTC string

    sign_in(client, "sq-boss", boss)
    audit = client.get("/console/audit").text
    assert "Sq-Clerk（sq-clerk）" in audit and "新收到 → 核查中" in audit and "checking" not in audit


def test_the_zone_is_a_setting():
    moment = datetime(2026, 3, 1, 23, 30)
    try:
        use_zone("Asia/Urumqi")
        assert fmt(moment) == "2026-03-02 05:30"
    finally:
        use_zone("Asia/Shanghai")
    assert fmt(moment) == "2026-03-02 07:30" and fmt("2026-03-01T23:30:00+00:00") == "2026-03-02 07:30"


def test_xlsx_columns_fit_their_text_and_head_counts_are_numbers(console):  # noqa: F811
    client, svc = console
    file_tip(client, "clerk-2")
    secret = add_staff(svc, "sq-x", "shiquan", role="supervisor", totp=True)  # exports: supervisors
    sign_in(client, "sq-x", secret)
    unlock(client)
    r = post(client, "/console/reports/ledger", kind="xlsx")
    sheet = load_workbook(io.BytesIO(r.content))["线索明细"]
    header = [c.value for c in sheet[1]]
    row = [c.value for c in sheet[2]]
    assert row[header.index("参与人数")] == 30 and row[header.index("人数原话")] == "三十多人"
    widths = {c.value: sheet.column_dimensions[c.column_letter].width for c in sheet[1]}
    assert widths["涉及主体"] >= 2 * len(ANSWERS["subject"])  # the subject fits
    assert widths["线索编号"] < widths["涉及主体"] and max(widths.values()) <= 50
    flags = sheet.cell(2, header.index("风险标记") + 1)
    assert flags.alignment.wrap_text  # the whole labels are long: they wrap inside the column


def test_an_unknown_console_address_gets_a_page(console):  # noqa: F811
    client, _ = console
    for path in ("/console/nothing-here", "/console/tips/5/nothing", "/console"):
        r = client.get(path, follow_redirects=False)
        if r.status_code in (301, 302, 303, 307, 308):
            continue  # /console → /console/
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html"), path
        assert "没有这个页面" in r.text and "返回线索队列" in r.text
    r = client.put("/console/", follow_redirects=False)
    assert r.status_code == 405 and r.headers["content-type"].startswith("text/html")
    assert client.get("/api/nothing").headers["content-type"].startswith("application/json")  # the API stays JSON
