"""The web page as people use it (issue 17): the conversation and its receipt survive a reload, clearing
asks first, pictures go into a tip as evidence, the header folds while typing in large font, 更多 is a
button, the verdict stands out, answers can be read aloud, and without chat.js nothing goes into a URL."""

from __future__ import annotations

import re
import struct
import zlib

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser
ANSWERS = {"region": "石泉县", "subject": "石泉某某农业合作社", "description": "每月返息三分，保本保息，拉人头有奖励",
           "amount": "跳过", "participants": "跳过", "evidence": "跳过", "contact": "匿名", "confirm": "确认"}


def png(width: int = 320, height: int = 200) -> bytes:
    """A small real PNG (a blue square on white), made without an imaging library."""
    rows = b"".join(b"\x00" + b"".join(b"\x1d\x4f\x91" if 60 < x < 200 and 40 < y < 160 else b"\xff\xff\xff"
                                       for x in range(width)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def expects(page) -> str | None:  # type: ignore[no-untyped-def]
    return page.evaluate("JSON.parse(localStorage.getItem('fundguard.log') || '{}').expects || null")


def say(page, text: str) -> None:  # type: ignore[no-untyped-def]
    before = page.locator(".msg.bot").count()
    page.fill("#msg", text)
    page.press("#msg", "Enter")
    page.locator(".msg.bot").nth(before).wait_for()  # (wait_for_function would need eval, which the CSP forbids)


def tip_until(page, slot: str | None) -> None:  # type: ignore[no-untyped-def]
    """Answer the tip flow from the page until it asks for `slot` (None: until it is filed)."""
    say(page, "我要举报")
    for _ in range(14):
        current = expects(page)
        if current == slot or current is None:
            return
        say(page, ANSWERS[current])
    pytest.fail(f"the tip flow never reached {slot}")


def test_the_receipt_survives_a_reload_and_clearing_asks_first(browser, live_server, shots):
    context = browser.new_context(viewport={"width": 360, "height": 740})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    page = context.new_page()
    page.goto(live_server + "/")
    tip_until(page, None)
    code = page.locator(".receipt-code").inner_text()
    assert len(code) == 23
    page.reload()
    assert page.locator(".receipt-code").inner_text() == code  # kept on this device
    assert page.locator(".msg.user").filter(has_text="石泉某某农业合作社").count() == 1
    page.locator(".receipt").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "receipt-after-reload-360x740.png"))
    page.click(".receipt .copy")
    expect(page.locator(".receipt .copy")).to_have_text("已复制")
    assert page.evaluate("navigator.clipboard.readText()") == code

    new = page.locator("#newchat").bounding_box()
    assert new and new["width"] >= 44 and new["height"] >= 44  # a finger's target, not 69×36
    page.once("dialog", lambda d: d.dismiss())
    page.click("#newchat")
    assert page.locator(".divider").count() == 0
    page.once("dialog", lambda d: d.accept())
    page.click("#newchat")
    assert page.locator(".divider").count() == 1 and page.locator(".receipt-code").inner_text() == code

    messages: list[str] = []
    page.once("dialog", lambda d: (messages.append(d.message), d.dismiss()))
    page.click("#clearlog")
    assert "回执码" in messages[0] and page.locator(".receipt").count() == 1
    page.once("dialog", lambda d: d.accept())
    page.click("#clearlog")
    assert page.locator(".receipt").count() == 0 and page.locator(".msg.bot").count() == 1  # the welcome
    page.reload()
    assert page.locator(".receipt").count() == 0
    context.close()


def test_the_receipt_after_a_reload_on_a_desktop(browser, live_server, shots):
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(live_server + "/")
    tip_until(page, None)
    page.reload()
    assert page.locator(".receipt-code").count() == 1
    page.screenshot(path=str(shots / "receipt-after-reload-1440x900.png"))
    page.close()


def test_a_picture_goes_into_the_tip_as_evidence(browser, live_server, tmp_path):
    photo = tmp_path / "flyer.png"
    photo.write_bytes(png())
    page = browser.new_page(viewport={"width": 360, "height": 740})
    page.goto(live_server + "/")
    tip_until(page, "evidence")
    before = page.locator(".msg.bot").count()
    page.set_input_files("#photofile", str(photo))
    page.locator(".msg.bot").nth(before).wait_for()
    assert page.locator(".msg.user.picture img").count() == 1
    assert "第1张" in page.locator(".msg.bot").last.inner_text()
    say(page, "好了")
    while expects(page) != "confirm":
        say(page, ANSWERS[expects(page)])
    assert "1张图片" in page.locator(".msg.bot").last.inner_text()
    stored = page.evaluate("localStorage.getItem('fundguard.log')")
    assert "data:image" not in stored  # the picture itself is never kept in the browser
    page.close()


def test_the_header_folds_while_typing_in_large_font(browser, live_server):
    # 360×740 with the keyboard open leaves about 440 px of page.
    page = browser.new_page(viewport={"width": 360, "height": 440})
    page.goto(live_server + "/")
    page.click("#bigfont")
    page.focus("#msg")
    expect(page.locator("html")).to_have_class(re.compile(r"\btyping\b"))
    assert page.locator(".masthead h1").is_hidden()
    assert page.evaluate("document.querySelector('#log').clientHeight") >= 200  # was 94 px
    page.locator("#log").click()
    expect(page.locator("html")).not_to_have_class(re.compile(r"\btyping\b"))
    assert page.locator(".masthead h1").is_visible()
    page.close()


def test_more_button_verdict_and_reading_aloud(browser, live_server):
    page = browser.new_page(viewport={"width": 360, "height": 740})
    page.add_init_script("""window.__spoken = [];
        if (window.speechSynthesis) window.speechSynthesis.speak = function (u) {
          window.__spoken.push({lang: u.lang, text: u.text}); if (u.onend) u.onend(); };""")
    page.goto(live_server + "/")
    say(page, "什么是非法集资")
    answer = page.locator(".msg.bot").last.inner_text()
    assert "回复“更多”" in answer
    more = page.locator(".quick-reply.more:not([disabled])")
    assert more.count() == 1
    more.click()
    page.locator(".msg.bot").nth(2).wait_for()
    assert page.locator(".msg.user").last.inner_text() == "更多"
    assert len(page.locator(".msg.bot").last.inner_text()) > 60

    say(page, "帮我看看：保本保息，年化36%，拉人头还有奖励，名额有限马上入股")
    verdict = page.locator(".msg.bot").last.locator(".verdict.high")
    assert verdict.inner_text() == "明显高风险"
    style = verdict.evaluate("e => { const s = getComputedStyle(e); return [s.fontWeight, s.color, s.backgroundColor,"
                             " getComputedStyle(e, '::before').content]; }")
    assert int(style[0]) >= 700 and style[2] != "rgba(0, 0, 0, 0)" and "⚠" in style[3]

    if page.evaluate("!window.speechSynthesis"):
        pytest.skip("this Chromium has no speech synthesis")
    page.locator(".msg.bot").last.locator(".speak").click()
    spoken = page.evaluate("window.__spoken")
    assert spoken and spoken[-1]["lang"] == "zh-CN" and "明显高风险" in spoken[-1]["text"]
    page.close()


def test_without_chat_js_a_message_never_goes_into_the_url(browser, live_server):
    page = browser.new_page()
    page.route("**/static/chat.js", lambda route: route.abort())
    page.goto(live_server + "/")
    page.fill("#msg", "我要举报 张三 13900000000（示例号码）")
    with page.expect_navigation():
        page.click("#send")
    assert page.url.rstrip("/") == live_server and "?" not in page.url
    assert "13900000000" not in page.url
    page.close()
