"""Links in chat: a page is fetched only when the deployment allows it (FUNDGUARD_FETCH_LINKS), within its size
and time limits, from public addresses only unless told otherwise, and never inside a tip. A real HTTP server on
localhost plays the web."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bot.media.links import NO_FETCH, OPENED, page_text
from bot.messages import Inbound

RISKY = "年化收益百分之二十，保本保息，介绍朋友入股再拿提成，名额有限"
PAGE = (f"<html><head><title>幸福养老社区开放认购</title><meta name='description' content='养老有保障'>"
        f"<script>var x='稳赚不赔';</script></head><body><p>{RISKY}</p></body></html>")


class Web:
    def __init__(self) -> None:
        self.paths: list[str] = []
        web = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                web.paths.append(self.path)
                if self.path == "/slow":
                    time.sleep(2)
                if self.path == "/moved":
                    self.send_response(302)
                    self.send_header("Location", "/pitch")
                    self.end_headers()
                    return
                body, kind = PAGE.encode(), "text/html; charset=utf-8"
                if self.path == "/long":  # the pitch only after 200 KB of harmless text
                    body = ("<p>" + "今天天气很好。" * 10000 + "</p>" + PAGE).encode()
                if self.path == "/file.pdf":
                    kind = "application/pdf"
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the bot gave up or read enough
                    self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def web() -> Iterator[Web]:
    w = Web()
    yield w
    w.server.shutdown()


@pytest.fixture
def fetching(make_services, sqlite_url):  # type: ignore[no-untyped-def]
    svc = make_services(sqlite_url, fetch_links=True, fetch_links_private=True, fetch_links_timeout=0.6,
                        fetch_links_max_bytes=64 * 1024)
    yield svc
    svc.db.dispose()


async def say(services, text: str, user: str = "linker", **kw):  # type: ignore[no-untyped-def]
    return await services.turns.handle(Inbound(channel="web", user=user, text=text, **kw))


async def test_a_pasted_url_is_opened_and_its_page_checked(fetching, web):
    web.paths.clear()
    turn = await say(fetching, f"看看这个 {web.url}/pitch")
    assert web.paths == ["/pitch"] and turn.replies[0].text == OPENED
    assert set(fetching.risk.analyse(RISKY).flag_ids) <= set(turn.red_flags) and turn.topic == "risk_check"
    assert page_text(PAGE).startswith("幸福养老社区开放认购\n养老有保障\n") and "稳赚不赔" not in page_text(PAGE)
    moved = await say(fetching, f"{web.url}/moved", user="linker2")
    assert web.paths[-2:] == ["/moved", "/pitch"] and "guaranteed_principal" in moved.red_flags


async def test_a_shared_wechat_article_is_checked_on_its_page_too(fetching, web):
    text = f"周末活动通知\n欢迎参观\n{web.url}/pitch"  # title, description, URL: as the WeChat channel sends it
    turn = await fetching.turns.handle(Inbound(channel="wechat", user="oLinker", text=text, kind="link",
                                                forwarded=True))
    assert turn.replies[0].text == OPENED and "guaranteed_principal" in turn.red_flags


async def test_size_and_time_limits_and_other_content_types(fetching, web):
    started = time.monotonic()
    slow = await say(fetching, f"{web.url}/slow")
    assert slow.replies[0].text == NO_FETCH and time.monotonic() - started < 1.8  # gave up at 0.6 s
    long = await say(fetching, f"{web.url}/long")
    assert long.replies[0].text == OPENED and "guaranteed_principal" not in long.red_flags  # read 64 KB only
    pdf = await say(fetching, f"{web.url}/file.pdf")
    assert pdf.replies[0].text == NO_FETCH


async def test_off_by_default_and_no_private_addresses(make_services, sqlite_url, web):
    web.paths.clear()
    default = make_services(sqlite_url)
    turn = await say(default, f"{web.url}/pitch")
    assert turn.replies[0].text == NO_FETCH
    titled = await default.turns.handle(Inbound(channel="wechat", user="oL2", kind="link", forwarded=True,
                                                 text=f"养老公寓认购\n{RISKY}\n{web.url}/pitch"))
    assert "guaranteed_principal" in titled.red_flags  # the title and description are still checked
    guarded = make_services(sqlite_url, fetch_links=True)  # on, but loopback is not a public address
    assert (await say(guarded, f"{web.url}/pitch", user="l3")).replies[0].text == NO_FETCH
    assert web.paths == []
    default.db.dispose()
    guarded.db.dispose()


async def test_a_link_inside_a_tip_is_never_opened(fetching, web):
    web.paths.clear()
    for text in ("我要举报", "汉阴县", "某某养老社区", f"宣传页在这里 {web.url}/pitch 他们说保本保息"):
        turn = await say(fetching, text, user="tipper")
    assert turn.topic == "report_start" and web.paths == []
