"""Point 1: a tip whose subject holds control characters or a direction override exports and shows cleanly;
full-width formula prefixes are kept as text like ASCII ones."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from bot.staff.labels import zone
from bot.store.models import utcnow
from tests.integration.test_console_security import add_staff, console, file_via_chat, last_tip_id, sign_in, unlock  # noqa: F401
from tests.integration.test_console_work import post

EVIL = "鑫\x01盛\x1b合作社\u202e社作合"


def test_control_characters_do_not_break_the_xlsx_and_are_not_shown(console):  # noqa: F811
    client, svc = console
    file_via_chat(client, "ctl-1", subject=EVIL)
    evil = last_tip_id(svc)
    file_via_chat(client, "ctl-2", subject="＝1+1 全角等号")
    wide = last_tip_id(svc)
    boss = add_staff(svc, "sq-ctl-boss", "shiquan", role="supervisor")
    sign_in(client, "sq-ctl-boss", boss)
    assert unlock(client).status_code == 303
    month = utcnow().astimezone(zone()).strftime("%Y-%m")
    for path, data in (("/console/reports/monthly", {"month": month}), ("/console/reports/ledger", {})):
        r = post(client, path, kind="xlsx", **data)
        assert r.status_code == 200, r.text
        sheet = load_workbook(io.BytesIO(r.content))["线索明细"]
        subjects = {row[0]: row[1] for row in _id_and_subject(sheet, path)}
        assert subjects[evil] == "鑫盛合作社社作合"
        assert subjects[wide] == "'＝1+1 全角等号"
    csv_text = post(client, "/console/reports/ledger", kind="csv").content.decode("utf-8-sig")
    assert "\x01" not in csv_text and "\u202e" not in csv_text and "'＝1+1" in csv_text
    page = client.get(f"/console/tips/{evil}").text
    assert "鑫盛合作社" in page and "\u202e" not in page and "\x01" not in page


def _id_and_subject(sheet, path: str):  # type: ignore[no-untyped-def]
    header = [c.value for c in sheet[1]]
    id_col, subject_col = header.index("线索编号"), header.index("涉及主体")
    for row in sheet.iter_rows(min_row=2, values_only=True):
        yield row[id_col], row[subject_col]
