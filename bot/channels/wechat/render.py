"""Turning the engine's replies into WeChat text: buttons as a numbered list, pages of at most 2048 bytes.

WeChat's passive text has no quick replies, so buttons become lines the person can answer with a
number ("1") or the label itself; `pick` maps a number back to its label. A reply longer than one
passive reply is cut into pages at line ends: the first goes out at once, the rest on “更多”.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.messages import Outbound
from bot.textnorm import ascii_digits

PAGE_BYTES = 2048                   # WeChat's limit for a passive text reply (and our customer-service pages)
MORE_HINT = "\n（内容较长，回复“更多”看下一段）"
_ROOM = PAGE_BYTES - len(MORE_HINT.encode("utf-8"))
_FULL_WIDTH = str.maketrans("０１２３４５６７８９", "0123456789")


@dataclass(frozen=True)
class Answer:
    """What one inbound message gets: pages of text, and the buttons they offer (labels, in order)."""

    pages: tuple[str, ...] = ()
    buttons: tuple[str, ...] = ()

    def to_json(self) -> dict[str, list[str]]:
        return {"pages": list(self.pages), "buttons": list(self.buttons)}

    @classmethod
    def from_json(cls, data: object) -> Answer:
        if not isinstance(data, dict):
            return cls()
        pages, buttons = data.get("pages") or [], data.get("buttons") or []
        return cls(tuple(str(p) for p in pages), tuple(str(b) for b in buttons))


def button_lines(labels: Sequence[str], text: str = "") -> str:
    """One label: 回复“X” (unless the text already says so). Several: a numbered list."""
    if not labels:
        return ""
    if len(labels) == 1:
        return "" if f"“{labels[0]}”" in text else f"回复“{labels[0]}”"
    return "请回复数字选择：\n" + "\n".join(f"{i}. {label}" for i, label in enumerate(labels, 1))


def render(replies: Sequence[Outbound], prefix: str = "") -> Answer:
    """The engine's replies (and an optional first paragraph) as pages plus the buttons offered."""
    labels: list[str] = []
    for reply in replies:
        for button in reply.buttons:
            if button.label not in labels:
                labels.append(button.label)
    texts = [t for t in (prefix.strip(), *(r.text.strip() for r in replies)) if t]
    body = "\n\n".join(texts)
    tail = button_lines(labels, body)
    full = body + ("\n\n" + tail if tail and body else tail)
    return Answer(paginate(full), tuple(labels) if len(labels) > 1 else ())


def text_answer(text: str) -> Answer:
    return Answer(paginate(text.strip()))


def paginate(text: str, room: int = _ROOM) -> tuple[str, ...]:
    """Pages of at most `room` UTF-8 bytes, cut at line ends where possible."""
    if not text:
        return ()
    pages: list[str] = []
    current = ""
    for line in _pieces(text, room):
        candidate = line if not current else current + "\n" + line
        if len(candidate.encode("utf-8")) <= room:
            current = candidate
            continue
        pages.append(current.strip("\n"))
        current = line
    if current.strip():
        pages.append(current.strip("\n"))
    return tuple(p for p in pages if p.strip())


def _pieces(text: str, room: int) -> list[str]:
    """Lines, with any line longer than `room` bytes cut by characters."""
    out: list[str] = []
    for line in text.split("\n"):
        while len(line.encode("utf-8")) > room:
            cut, size = 0, 0
            for ch in line:
                n = len(ch.encode("utf-8"))
                if size + n > room:
                    break
                cut, size = cut + 1, size + n
            out.append(line[:cut])
            line = line[cut:]
        out.append(line)
    return out


def with_more_hint(page: str, more: bool) -> str:
    return page + MORE_HINT if more else page


def pick(text: str, labels: Sequence[str]) -> str | None:
    """“1” → the first of the last buttons shown (only when at least two were shown as a list)."""
    if len(labels) < 2:
        return None
    s = text.strip().translate(_FULL_WIDTH).rstrip("。.、 ")
    if not ascii_digits(s) or len(s) > 2:
        return None
    n = int(s)
    return labels[n - 1] if 1 <= n <= len(labels) else None
