"""A text as the risk check reads it (normalised, variants respelled) with a map back to what was written,
so flagged phrases are quoted in the person's own words; and its sentences."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from bot.textnorm import normalise, to_half_width, to_simplified

_SENTENCE_END = set("。!?;…")


@lru_cache(maxsize=4096)
def _dropped(ch: str) -> bool:
    return ch.isspace() or normalise(ch) == ""


@dataclass(frozen=True)
class Aligned:
    """The normalised text, with where each of its characters came from in the input."""

    source: str
    norm: str
    index: tuple[int, ...] | None  # norm[i] came from source[index[i]]; None if alignment failed
    breaks: frozenset[int]         # positions in norm of a space that was a line break

    def original(self, start: int, end: int) -> str:
        if self.index is None or end <= start:
            return self.norm[start:end]
        return self.source[self.index[start] : self.index[end - 1] + 1]


def align(text: str) -> Aligned:
    source = unicodedata.normalize("NFC", text)
    target = normalise(text)
    half = to_half_width(source)
    simp = to_simplified(half)
    if len(simp) != len(half):
        simp = "".join(c if len(to_simplified(c)) != 1 else to_simplified(c) for c in half)
    out: list[str] = []
    index: list[int] = []
    breaks: set[int] = set()
    gap: tuple[int, bool] | None = None
    for i, ch in enumerate(simp):
        if _dropped(ch):
            if out:
                gap = (gap[0] if gap else i, bool(gap and gap[1]) or ch in "\n\r\u2028\u2029")
            continue
        if gap:
            if gap[1]:
                breaks.add(len(out))
            out.append(" ")
            index.append(gap[0])
            gap = None
        low = ch.lower()
        out.append(low if len(low) == 1 else ch)
        index.append(i)
    norm = "".join(out)
    if norm != target:
        return Aligned(source, target, None, frozenset())
    return Aligned(source, norm, tuple(index), frozenset(breaks))


def respell(a: Aligned, pattern: re.Pattern[str] | None, variants: Mapping[str, str]) -> Aligned:
    """`a` with each variant spelling (利西, 保笨, 稳zhuan) replaced by its usual form; every new character
    points back at the characters it replaces, so phrases are still quoted as written."""
    if pattern is None:
        return a
    out: list[str] = []
    index: list[int] = []
    moved: dict[int, int] = {}
    pos = 0
    for m in pattern.finditer(a.norm):
        for i in range(pos, m.start()):
            moved[i] = len(out)
            out.append(a.norm[i])
            index.append(a.index[i] if a.index else i)
        rep = variants[m.group()]
        src = [a.index[i] if a.index else i for i in range(m.start(), m.end())]
        for k, ch in enumerate(rep):
            out.append(ch)
            index.append(src[min(k, len(src) - 1)])
        pos = m.end()
    if not out:
        return a
    for i in range(pos, len(a.norm)):
        moved[i] = len(out)
        out.append(a.norm[i])
        index.append(a.index[i] if a.index else i)
    breaks = frozenset(moved[b] for b in a.breaks if b in moved)
    return Aligned(a.source, "".join(out), tuple(index) if a.index else None, breaks)


def sentences(a: Aligned) -> list[tuple[int, int]]:
    """Sentence spans of the normalised text: cut at 。!?; … and at the input's line breaks."""
    spans, start = [], 0
    for i, ch in enumerate(a.norm):
        if ch in _SENTENCE_END or i in a.breaks:
            if i > start:
                spans.append((start, i + (ch in _SENTENCE_END)))
            start = i + 1
    if start < len(a.norm):
        spans.append((start, len(a.norm)))
    return [(s, e) for s, e in spans if a.norm[s:e].strip(" .,:;!?。")]
