"""The queue as a county clerk uses it, in a real Chromium against `fundguard serve`: subjects once the key
is unlocked, an overdue tip marked in words, search, likely duplicates merged, a print view. Screenshots
of the queue at 360×740 and 1440×900 go to docs/screenshots/."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator

import pyotp
import pytest

from tests.e2e.conftest import REPO, server_env, start_server
from tests.e2e.test_console import DEV_PASSPHRASE, PASSWORD, file_tip

pytestmark = pytest.mark.browser
SUBJECTS = ("石泉县鑫农生态合作社", "城关镇福寿养老公寓", "鑫农生态专业合作社")


@pytest.fixture(scope="module")
def clerk_server(tmp_path_factory: pytest.TempPathFactory, seed_nlu) -> Iterator[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """A fresh server with a supervisor and three tips, the 养老 one filed five days ago: (url, TOTP secret)."""
    data = seed_nlu(tmp_path_factory.mktemp("queue-data"))
    env = server_env(data, FUNDGUARD_STAFF_PASSWORD=PASSWORD)
    cli = [sys.executable, "-m", "bot.cli"]
    subprocess.run([*cli, "db", "upgrade"], cwd=REPO, env=env, check=True, capture_output=True)
    added = subprocess.run([*cli, "staff", "add", "--username", "sq-lead", "--name", "王主任", "--office", "shiquan",
                            "--role", "supervisor"], cwd=REPO, env=env, check=True, capture_output=True, text=True)
    secret = re.search(r"secret: ([A-Z2-7]+)", added.stdout).group(1)
    with start_server(data, env) as base:
        for n, subject in enumerate(SUBJECTS):
            file_tip(base, f"queue-tipster-{n}", subject)
        with sqlite3.connect(data / "fundguard.db") as db:
            db.execute("UPDATE tips SET created_at = datetime('now', '-5 days'), "
                       "updated_at = datetime('now', '-5 days') WHERE id = (SELECT MIN(id) + 1 FROM tips)")
        yield base, secret


def sign_in_and_unlock(page, base: str, secret: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + "/console/")
    page.fill("#username", "sq-lead")
    page.fill("#password", PASSWORD)
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("#login")
    page.wait_for_selector("#queue")
    page.click("#key-state")
    page.fill("#passphrase", DEV_PASSPHRASE)
    page.click("#unlock")
    page.wait_for_selector("#queue")


def test_the_clerks_queue(browser, clerk_server, shots):
    base, secret = clerk_server
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    page = context.new_page()
    sign_in_and_unlock(page, base, secret)
    cells = page.locator("#queue td.subject").all_inner_texts()
    assert sorted(c.split("\n")[0] for c in cells) == sorted(SUBJECTS)
    assert sum("疑似重复" in c for c in cells) == 2  # the two 鑫农 cooperatives point at each other
    late = page.locator("#queue tr.overdue")
    assert late.count() == 1 and "城关镇福寿养老公寓" in late.inner_text() and "逾期" in late.inner_text()
    page.screenshot(path=str(shots / "console-queue-1440x900.png"))
    page.set_viewport_size({"width": 360, "height": 740})
    page.locator("#queue").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "console-queue-360x740.png"))
    page.set_viewport_size({"width": 1440, "height": 900})

    page.fill("#search", "鑫农")
    page.press("#search", "Enter")
    page.wait_for_selector("#queue")
    found = page.locator("#queue td.subject").all_inner_texts()
    assert sorted(c.split("\n")[0] for c in found) == sorted(SUBJECTS[::2])

    page.click("#dup-link")
    group = page.locator(".dup-group")
    assert group.count() == 1 and "鑫农生态专业合作社" in group.inner_text()
    page.once("dialog", lambda d: d.accept())
    page.locator(".dup-group form.merge button").click()
    page.wait_for_selector("#history")
    assert "并入了" in page.inner_text("#history")

    page.click("#print-link")
    page.wait_for_selector(".print-table")
    page.emulate_media(media="print")
    assert page.locator(".no-print").is_hidden() and page.locator(".top").count() == 0
    assert "承办人签字" in page.inner_text("body")
    context.close()
