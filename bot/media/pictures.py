"""A picture sent outside a tip: read its text, then check it exactly as a forwarded text.

The engine hands over the picture and a way to route text as a forward; this module reads, frames the
answer (it says the picture was read, shows what was read, and quotes the phrases the check relied on)
and says so kindly when nothing legible was found. Inside the tip flow the engine never calls it: a
picture there is sealed evidence and is not read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

from bot.dialogue.context import turn
from bot.media.ocr import ImageReader
from bot.messages import Outbound, Turn

MIN_CHARS = 6            # fewer legible characters than this is no text to check
SHOWN = 80               # characters of the reading shown back to the person
UNREAD = ("这张图片我看过了，但没认出上面的文字（可能太小、太模糊或者是手写的）。\n"
          "想让我看看宣传靠不靠谱，请把上面的文字打出来发给我，或者拍得清楚一点再发；想举报请回复“我要举报”。")


class Phrased(Protocol):
    @property
    def phrase(self) -> str: ...


class PhraseReport(Protocol):
    @property
    def flags(self) -> tuple[Phrased, ...]: ...


class PhraseFinder(Protocol):
    def analyse(self, text: str) -> PhraseReport: ...


class PictureReader:
    def __init__(self, reader: ImageReader, checker: PhraseFinder) -> None:
        self.reader = reader
        self._checker = checker

    def respond(self, image: bytes, as_forward: Callable[[str], Turn]) -> Turn:
        text = self.reader.read(image).strip()
        if sum(ch.isalnum() for ch in text) < MIN_CHARS:
            return turn(UNREAD, "risk_check", buttons=["我要举报", "帮我看看靠不靠谱"])
        answer = as_forward(text)
        return replace(answer, replies=(Outbound(self.intro(text)), *answer.replies),
                       extra={**answer.extra, "ocr_text": text})

    def intro(self, text: str) -> str:
        flat = " ".join(text.split())
        shown = flat if len(flat) <= SHOWN else flat[:SHOWN] + "…"
        phrases: list[str] = []
        for flag in self._checker.analyse(text).flags:
            phrase = " ".join(str(flag.phrase).split())
            if phrase and phrase not in phrases:
                phrases.append(phrase)
        said = f"我读了您发来的图片，上面写着：\n“{shown}”\n（图片上的字是机器认的，个别字可能认错。）"
        if phrases:
            said += "\n我主要根据这几句话来判断：" + "".join(f"「{p}」" for p in phrases[:5]) + "。"
        return said
