"""Word lists and regular expressions of the lexicon turned into one compiled alternation."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.textnorm import normalise

CHAR_CLASS = re.compile(r"\[(?:\\.|[^\]])*\]")
PUNCT = set(",.;:!?。，；：！？、…\"'“”‘’()（）《》【】[] ")

def norm_words(words: list[str]) -> list[str]:
    out = [normalise(w) for w in words]
    if any(not w for w in out):
        raise ValueError("empty word in list")
    return out


def alternation(words: Sequence[str], patterns: Sequence[str] = ()) -> re.Pattern[str] | None:
    parts = [re.escape(w) for w in sorted(set(words), key=len, reverse=True)] + list(patterns)
    return re.compile("|".join(f"(?:{p})" for p in parts)) if parts else None


def compile_all(patterns: list[str]) -> list[str]:
    for p in patterns:
        try:
            re.compile(p)
        except re.error as exc:
            raise ValueError(f"bad pattern {p!r}: {exc}") from exc
    return patterns
