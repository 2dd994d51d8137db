"""What the engine needs from an NLU: a parse with an intent, a confidence and a ranking."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Parse:
    intent: str
    confidence: float
    ranking: tuple[tuple[str, float], ...]
    backend: str


class NLUParser(Protocol):
    name: str

    def parse(self, text: str) -> Parse: ...
