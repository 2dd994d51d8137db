"""The staff console in a real headless Chromium (Debian's package, driven by Playwright) against a real
`fundguard serve`: sign in with TOTP, unlock the key, open a tip filed through /api/chat, change its
status, reply to the tipster and see the reply arrive through the receipt, export the monthly report."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pyotp
import pytest
from openpyxl import load_workbook

from tests.e2e.conftest import REPO, server_env, start_server

PASSWORD = "e2e console password 42"
DEV_PASSPHRASE = "fundguard-dev-only"
COMPANY = "丰禾源生态农业合作社"
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, seed_nlu) -> Iterator[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """A fresh `fundguard serve` with one supervisor account made by `fundguard staff add`: (url, TOTP secret)."""
    data = seed_nlu(tmp_path_factory.mktemp("console-data"))
    env = server_env(data, FUNDGUARD_STAFF_PASSWORD=PASSWORD)
    cli = [sys.executable, "-m", "bot.cli"]
    subprocess.run([*cli, "db", "upgrade"], cwd=REPO, env=env, check=True, capture_output=True)
    added = subprocess.run([*cli, "staff", "add", "--username", "sq-boss", "--name", "石泉负责人",
                            "--office", "shiquan", "--role", "supervisor"],
                           cwd=REPO, env=env, check=True, capture_output=True, text=True)
    secret = re.search(r"secret: ([A-Z2-7]+)", added.stdout).group(1)
    with start_server(data, env) as base:
        yield base, secret


def say(base: str, user: str, text: str) -> dict:
    r = httpx.post(f"{base}/api/chat", json={"user": user, "text": text}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def file_tip(base: str, user: str, subject: str, amount: str = "跳过") -> str:
    answers = {"region": "石泉县", "subject": subject, "description": "每月返息三分，保本保息，拉人头有奖励",
               "amount": amount, "participants": "跳过", "evidence": "跳过", "contact": "匿名", "confirm": "确认"}
    body = say(base, user, "我要举报")
    while body["expects"]:
        body = say(base, user, answers[body["expects"]])
    assert body["receipt"]
    return body["receipt"]


def test_a_supervisor_works_a_tip_from_sign_in_to_the_monthly_report(browser, server, tmp_path: Path):
    base, secret = server
    receipt = file_tip(base, "e2e-tipster", COMPANY, amount="大概三十万")
    file_tip(base, "e2e-evil", "<script>window.pwned=1</script>某某公司")
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("request", lambda r: problems.append(r.url) if not r.url.startswith(base) else None)

    # sign in with password and TOTP
    page.goto(base + "/console/")
    assert page.url.startswith(base + "/console/login")
    page.fill("#username", "sq-boss")
    page.fill("#password", PASSWORD)
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("#login")
    page.wait_for_selector("#queue")
    assert page.inner_text("#key-state") == "密钥未解锁"
    rows = page.locator("#queue tbody tr[data-tip]")
    assert rows.count() == 2 and COMPANY not in page.content()  # locked: metadata only
    tip_id = min(int(rows.nth(i).get_attribute("data-tip")) for i in range(2))

    # unlock the office key for this session
    page.click("#key-state")
    page.fill("#passphrase", DEV_PASSPHRASE)
    page.click("#unlock")
    page.wait_for_selector("#queue")
    assert page.inner_text("#key-state") == "密钥已解锁"

    # the tip with <script> in it renders inert
    page.click(f'a[href="/console/tips/{tip_id + 1}"]')
    assert "<script>window.pwned=1</script>" in page.inner_text("#subject")
    assert page.evaluate("window.pwned === undefined")

    # open the tip, change its status with a reason
    page.goto(f"{base}/console/tips/{tip_id}")
    assert COMPANY in page.inner_text("#subject") and page.inner_text("#tip-status") == "新收到"
    page.select_option("#status-to", "checking")
    page.fill("#status-reason", "已安排人员到村里核实")
    page.click("#status-submit")
    page.wait_for_selector("#tip-status:has-text('核查中')")
    assert "已安排人员到村里核实" in page.inner_text("#history")

    # reply to the tipster; the tipster sees it by checking the receipt from any chat
    page.fill("#reply-text", "请问宣传会在哪个村开的？")
    page.click("#reply-submit")
    page.wait_for_selector(".flash.ok")
    status = say(base, "someone-with-the-receipt", f"查询 {receipt}")
    assert "核查中" in status["replies"][0]["text"] and "请问宣传会在哪个村开的？" in status["replies"][0]["text"]
    page.reload()
    assert "待举报人查询" in page.inner_text("#history")  # shown, but not yet seen
    say(base, "someone-with-the-receipt", "我看到了")
    page.reload()
    assert "已送达" in page.inner_text("#history")

    # the monthly report, as CSV and XLSX
    page.goto(base + "/console/reports")
    month = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    assert page.input_value("#report-month") == month
    with page.expect_download() as csv_download:
        page.click("#monthly-csv")
    content = Path(csv_download.value.path()).read_bytes().decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(content)))
    assert table[0][:4] == ["序号", "线索编号", "收到时间", "县区"]
    mine = next(row for row in table[1:] if row[1] == str(tip_id))
    assert mine[3] == "石泉县" and mine[7] == "核查中" and COMPANY in mine[9] and mine[10] == "300000"
    assert len(table) == 3
    with page.expect_download() as xlsx_download:
        page.click("#monthly-xlsx")
    assert xlsx_download.value.suggested_filename.endswith(".xlsx")
    book = load_workbook(io.BytesIO(Path(xlsx_download.value.path()).read_bytes()))
    assert [row[1] for row in book["线索明细"].iter_rows(min_row=2, values_only=True)] == [tip_id, tip_id + 1]

    # the dashboard draws its charts without any outside resource; the audit log shows the openings
    page.goto(base + "/console/dashboard")
    assert page.locator("svg.chart").count() >= 5  # a sixth (campaign reach) once the campaign tables exist
    page.goto(base + "/console/audit?action=open")
    assert page.locator("#audit tbody tr[data-action='open']").count() >= 3

    page.click("#logout")
    page.wait_for_selector("#login")
    page.goto(f"{base}/console/tips/{tip_id}")
    assert page.url.startswith(base + "/console/login")
    assert not problems, problems
    context.close()
