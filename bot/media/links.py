"""Links in chat: a shared article (WeChat `link`) or a URL pasted in a message.

The title and description WeChat sends with an article are always checked (they are in the message).
Only where the deployment allows outbound HTTP (FUNDGUARD_FETCH_LINKS=true; off by default) is the
page itself fetched: http(s) only, to public addresses only (unless FUNDGUARD_FETCH_LINKS_PRIVATE is
set, for tests), at most `max_bytes` read and `timeout` seconds spent, at most three redirects, each
checked again; its title, description and text are then checked like a forwarded text. The engine never
calls this inside a tip or a receipt: a link given there is part of the sealed tip and is not opened.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import time
from collections.abc import Callable
from dataclasses import replace
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx

from bot.dialogue.context import turn
from bot.messages import Outbound, Turn

URL = re.compile(r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
MAX_PAGE_TEXT = 1500
NO_FETCH = ("这个链接我没有打开：为了安全，这里不访问外部网页。\n"
            "请把文章里的宣传文字复制发给我，或者直接转发文章，我帮您看看靠不靠谱。")
OPENED = "我打开了您发来的链接，看了它的标题和正文。"


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title, self.description, self._skip, self._in_title = "", "", 0, False
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): v or "" for k, v in attrs}
        if tag in ("script", "style", "noscript", "template"):
            self._skip += 1
        elif tag == "title":
            self._in_title = True
        elif tag == "meta" and (a.get("name", "").lower() == "description"
                                or a.get("property", "").lower() == "og:description") and not self.description:
            self.description = a.get("content", "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "noscript", "template") and self._skip:
            self._skip -= 1
        elif tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._skip and data.strip():
            self.parts.append(data.strip())


def page_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    lines = [" ".join(t.split()) for t in (parser.title, parser.description, " ".join(parser.parts)) if t.strip()]
    return "\n".join(lines)[:MAX_PAGE_TEXT]


class LinkReader:
    def __init__(self, *, fetch: bool = False, max_bytes: int = 512 * 1024, timeout: float = 3.0,
                 allow_private: bool = False) -> None:
        self.fetch, self.max_bytes, self.timeout, self.allow_private = fetch, max_bytes, timeout, allow_private

    def respond(self, text: str, as_forward: Callable[[str], Turn]) -> Turn | None:
        """A Turn when the message is about a link; None when it is not (the engine goes on as usual)."""
        urls = URL.findall(text)
        if not urls:
            return None
        rest = URL.sub(" ", text).strip()
        page = self.read(urls[0]) if self.fetch else ""
        if not page:
            if sum(ch.isalnum() for ch in rest) >= 6:
                return None  # title and description (or the person's own words) are checked as they are
            return turn(NO_FETCH, "risk_check", buttons=["帮我看看靠不靠谱", "我要举报"])
        answer = as_forward(URL.sub(" ", f"{rest}\n{page}").strip())  # no URL left to open again
        return replace(answer, replies=(Outbound(OPENED), *answer.replies))

    def read(self, url: str) -> str:
        """The page's title, description and text; "" when it cannot or may not be read."""
        try:
            with httpx.Client(timeout=self.timeout, follow_redirects=False) as client:
                return self._get(client, url, time.monotonic() + self.timeout)
        except (httpx.HTTPError, TimeoutError, OSError, ValueError, UnicodeError):
            return ""

    def _get(self, client: httpx.Client, url: str, deadline: float) -> str:
        for _ in range(4):  # the first request and at most three redirects
            if not self._allowed(url):
                return ""
            with client.stream("GET", url, headers={"Accept": "text/html,text/plain"}) as res:
                if res.is_redirect and res.headers.get("location"):
                    url = urljoin(url, res.headers["location"])
                    continue
                kind = res.headers.get("content-type", "").split(";")[0].strip().lower()
                if res.status_code != 200 or kind not in ("text/html", "text/plain", "application/xhtml+xml"):
                    return ""
                body = bytearray()
                for chunk in res.iter_bytes():
                    body += chunk[: self.max_bytes - len(body)]
                    if time.monotonic() > deadline:
                        raise TimeoutError  # a page trickling in is not waited for
                    if len(body) >= self.max_bytes:
                        break  # the rest of a long page is not read
                html = bytes(body).decode(res.charset_encoding or "utf-8", errors="replace")
                return page_text(html) if kind != "text/plain" else " ".join(html.split())[:MAX_PAGE_TEXT]
        return ""

    def _allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return False
        if self.allow_private:
            return True
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443)
        return all(ipaddress.ip_address(info[4][0]).is_global for info in infos)
