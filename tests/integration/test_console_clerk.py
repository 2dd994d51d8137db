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
    by_name = client.get("/console/audit", params={"actor": "Sq-Clerk"}).text
    assert "Sq-Clerk（sq-clerk）" in by_name and "Sq-Boss（sq-boss）" not in by_name.split('id="audit"')[1]


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


# --- the queue ----------------------------------------------------------------------------------------
def _queue_setup(client, svc, receipts: list[str] | None = None):  # type: ignore[no-untyped-def]
    """Three tips: two about the same cooperative (one written differently), one old and untouched."""
    for user, subject in (("q-1", "石泉县鑫农生态合作社"), ("q-2", "养老公寓项目"), ("q-3", "鑫农生态专业合作社")):
        answers = {**ANSWERS, "subject": subject}
        body = say(client, user, "我要举报")
        while body["expects"]:
            body = say(client, user, answers[body["expects"]])
        if receipts is not None:
            receipts.append(body["receipt"])
    first = last_tip_id(svc) - 2
    with svc.uow() as uow:
        uow.session.execute(update(Tip).where(Tip.id == first + 1).values(
            created_at=datetime(2025, 1, 2, 3, 4), updated_at=datetime(2025, 1, 2, 3, 4)))
        uow.commit()
    return first, first + 1, first + 2


def rows_of(html: str) -> list[int]:
    import re

    return [int(m) for m in re.findall(r'<tr class="[^"]*" data-tip="(\d+)"', html)]


def test_the_queue_shows_subjects_only_when_unlocked_and_audits_each_once(console):  # noqa: F811
    from tests.integration.test_console_security import audit

    client, svc = console
    a, old, b = _queue_setup(client, svc)
    add_staff(svc, "sq-q", "shiquan")
    sign_in(client, "sq-q")
    assert "鑫农" not in client.get("/console/").text
    unlock(client)
    page = client.get("/console/").text
    assert "石泉县鑫农生态合作社" in page and "养老公寓项目" in page
    assert f"疑似重复：#{b}" in page and f"疑似重复：#{a}" in page and page.count("疑似重复：") == 2
    client.get("/console/")
    queue_opens = [row for row in audit(svc, "open") if row[2] == "队列显示涉及主体"]
    assert sorted(tip for _, tip, _ in queue_opens) == [a, old, b]  # once each, not once per view


def test_search_sort_and_overdue(console):  # noqa: F811
    client, svc = console
    a, old, b = _queue_setup(client, svc)
    add_staff(svc, "sq-s", "shiquan")
    sign_in(client, "sq-s")
    locked = client.get("/console/", params={"q": "鑫农"}).text
    assert "解锁本单位密钥后才能按内容搜索" in locked
    assert rows_of(client.get("/console/", params={"q": f"#{old}"}).text) == [old]
    unlock(client)
    assert sorted(rows_of(client.get("/console/", params={"q": "鑫农"}).text)) == [a, b]
    assert rows_of(client.get("/console/", params={"q": "养老 公寓"}).text) == [old]
    assert rows_of(client.get("/console/", params={"sort": "oldest"}).text) == [old, a, b]
    assert rows_of(client.get("/console/", params={"sort": "newest"}).text) == [b, a, old]
    page = client.get("/console/").text
    assert page.count("逾期 · 超过3天未处理") == 1 and f'class=" overdue" data-tip="{old}"' in page
    assert rows_of(client.get("/console/", params={"overdue": "1"}).text) == [old]


def test_a_handler_takes_a_tip_and_cannot_take_anothers(console):  # noqa: F811
    client, svc = console
    a, old, b = _queue_setup(client, svc)
    add_staff(svc, "sq-h1", "shiquan")
    add_staff(svc, "sq-h2", "shiquan")
    sign_in(client, "sq-h1")
    assert client.get("/console/").text.count("领取") == 3
    assert post(client, f"/console/tips/{old}/take", back="queue").status_code == 303
    page = client.get("/console/").text
    assert page.count("领取") == 2 and "Sq-H1" in page
    assert rows_of(client.get("/console/", params={"overdue": "1"}).text) == []  # acted on: no longer overdue
    sign_in(client, "sq-h2")
    post(client, f"/console/tips/{old}/take")
    assert "已有承办人" in client.get(f"/console/tips/{old}").text
    add_staff(svc, "hb-h", "hanbin")
    sign_in(client, "hb-h")
    assert post(client, f"/console/tips/{a}/take").status_code == 404  # another county's tip


def test_duplicates_are_found_and_merged(console):  # noqa: F811
    client, svc = console
    receipts: list[str] = []
    a, old, b = _queue_setup(client, svc, receipts)
    add_staff(svc, "sq-d", "shiquan")
    sign_in(client, "sq-d")
    assert client.get("/console/duplicates").status_code == 403  # needs the key
    unlock(client)
    page = client.get("/console/duplicates").text
    assert page.count('class="card dup-group"') == 1 and f'data-tip="{a}"' in page and f'data-tip="{b}"' in page
    assert f'data-tip="{old}"' not in page
    assert post(client, f"/console/tips/{b}/merge", into=str(a)).status_code == 303
    with svc.uow() as uow:
        assert uow.session.get(Tip, b).status == "closed" and uow.session.get(Tip, a).status == "new"
    merged = client.get(f"/console/tips/{b}").text
    assert f"并入 <a href=\"/console/tips/{a}\">#{a}</a>" in merged and f"已并入#{a}办理" in merged
    assert f"并入了 <a href=\"/console/tips/{b}\">#{b}</a>" in client.get(f"/console/tips/{a}").text
    assert "没有发现疑似重复" in client.get("/console/duplicates").text
    post(client, f"/console/tips/{a}/status", to="checking", reason="开始核查")
    # the merged tip's tipster is told it is handled with the other one, at that one's status
    told = say(client, "merged-tipster", f"查询 {receipts[2]}")["replies"][0]["text"]
    assert "同一件事，已合并在一起办理，目前状态：核查中" in told and "已结案" not in told
    assert "目前状态：核查中" in say(client, "first-tipster", f"查询 {receipts[0]}")["replies"][0]["text"]
    post(client, f"/console/tips/{b}/merge", into=str(a))
    assert "已经办结" in client.get("/console/duplicates").text
    for into in ("99999999999", "abc", "", str(2**31 + 5)[:9] + "0"):  # never a 500, whatever is typed
        assert post(client, f"/console/tips/{a}/merge", into=into).status_code in (303, 400, 404)


def test_the_print_view(console):  # noqa: F811
    client, svc = console
    a, _, _ = _queue_setup(client, svc)
    add_staff(svc, "sq-p", "shiquan")
    sign_in(client, "sq-p")
    locked = client.get(f"/console/tips/{a}/print").text
    assert "内容已加密" in locked and "石泉县鑫农生态合作社" not in locked
    unlock(client)
    page = client.get(f"/console/tips/{a}/print").text
    assert "石泉县鑫农生态合作社" in page and "约 30 人" in page and "承办人签字" in page
    assert 'action="/console/tips' not in page and "打印人：Sq-P" in page  # no forms, who printed it
