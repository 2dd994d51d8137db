"""The web chat page in a real headless Chromium (Debian's package, driven by Playwright)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_ask_a_question_and_tap_a_follow_up(browser, live_server):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(live_server + "/")
    page.fill("#msg", "啥叫非法集资")
    page.click("#send")
    bot = page.locator(".msg.bot")
    page.wait_for_selector(".msg.bot >> nth=1")
    answer = bot.nth(1).inner_text()
    assert "非法集资" in answer and "依据" in answer
    buttons = page.locator(".quick-reply:not([disabled]):not(.more)")  # follow-ups; 更多 comes on top
    assert 2 <= buttons.count() <= 4
    label = buttons.first.inner_text()
    buttons.first.click()
    page.wait_for_selector(".msg.bot >> nth=2")
    assert page.locator(".msg.user").last.inner_text() == label
    assert page.locator(".msg.bot").nth(2).inner_text()
    assert not [e for e in errors if "Content Security Policy" in e]


def test_large_font_toggle_and_inert_html(browser, live_server):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(live_server + "/")
    before = page.evaluate("parseFloat(getComputedStyle(document.querySelector('#log')).fontSize)")
    page.click("#bigfont")
    after = page.evaluate("parseFloat(getComputedStyle(document.querySelector('#log')).fontSize)")
    assert after > before * 1.2
    page.fill("#msg", "<img src=x onerror=alert(1)><script>window.pwned=1</script> 帮我看看")
    page.click("#send")
    page.wait_for_selector(".msg.bot >> nth=1")
    assert page.evaluate("window.pwned === undefined")
    assert "<script>" in page.locator(".msg.user").last.inner_text()
    page.reload()
    assert page.evaluate("parseFloat(getComputedStyle(document.querySelector('#log')).fontSize)") == after
