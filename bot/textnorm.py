"""Text normalisation shared by the NLU, the risk check and the tip flow.

Traditional → Simplified (OpenCC), full-width → half-width, emoji and decorative symbols dropped,
whitespace folded. The result is what every classifier and pattern in the project sees.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\U00002600-\U000027bf\U0001f900-\U0001f9ff\U00002190-\U000021ff"
    "\U00002b00-\U00002bff\ufe0f\u200d\u20e3]+"
)
_SPACE = re.compile(r"\s+")


def ascii_digits(s: str) -> bool:
    """Only 0-9: `str.isdigit()` also takes "²" and "١٢٣", which `int()` then refuses or reads otherwise."""
    return s.isascii() and s.isdigit()


@lru_cache(maxsize=1)
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


_HALF_WIDTH = {0x3000: " "} | {code: chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)}


def to_half_width(text: str) -> str:
    """Full-width ASCII variants (ＡＢＣ１２３！) become their half-width forms; CJK is untouched."""
    return text.translate(_HALF_WIDTH)


def to_simplified(text: str) -> str:
    simplified: str = _converter().convert(text)
    return simplified


@lru_cache(maxsize=8192)  # a turn normalises the same words many times (NLU, risk check, offices, hints)
def normalise(text: str) -> str:
    """The canonical form of a message: simplified, half-width, lower-case, no emoji, folded spaces."""
    text = unicodedata.normalize("NFC", text)
    text = to_half_width(text)
    text = to_simplified(text)
    text = _EMOJI.sub(" ", text)
    text = _SPACE.sub(" ", text).strip().lower()
    return text
