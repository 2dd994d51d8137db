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
    assert "非法集资" in answer and "更多" in answer  # the legal basis is behind “更多”
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


def test_upload_a_picture_and_get_it_read(browser, live_server):
    from tests.fakes.pictures import render

    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(live_server + "/")
    flyer = render(["扫码加入理财群，", "每天返利百分之二，", "保本保息，稳赚不赔。"])
    page.set_input_files("#photofile", files=[{"name": "flyer.png", "mimeType": "image/png", "buffer": flyer}])
    page.wait_for_selector(".msg.bot >> nth=2", timeout=30000)  # the page shrinks it to a JPEG, the bot reads it
    assert page.locator(".msg.bot").nth(1).inner_text().startswith("我读了您发来的图片")
    assert "【风险检查】" in page.locator(".msg.bot").nth(2).inner_text()
    page.set_input_files("#photofile", files=[{"name": "a.pdf", "mimeType": "image/png", "buffer": b"%PDF-1.4"}])
    page.wait_for_selector(".msg.bot.error")
    assert "打不开" in page.locator(".msg.bot.error").last.inner_text()
