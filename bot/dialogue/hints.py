"""Words that point to a topic when the NLU is unsure (content/topic_hints.yaml): 敬老院 → tactic_pension."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import yaml

from bot.textnorm import normalise


class TopicHints:
    """Words that point to a topic when the NLU is unsure (content/topic_hints.yaml)."""

    def __init__(self, hints: dict[str, list[str]]) -> None:
        words = sorted(((normalise(w), t) for t, ws in hints.items() for w in ws), key=lambda p: -len(p[0]))
        self._topic = dict(words)
        self._re = re.compile("|".join(re.escape(w) for w, _ in words)) if words else None

    @classmethod
    def load(cls, path: Path, topic_ids: Iterable[str]) -> TopicHints:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        hints = data.get("hints") if isinstance(data, dict) else None
        if not isinstance(hints, dict) or not all(isinstance(v, list) for v in hints.values()):
            raise ValueError(f"{path}: expected `hints:` mapping topic ids to lists of words")
        unknown = sorted(set(hints) - set(topic_ids))
        if unknown:
            raise ValueError(f"{path}: unknown topic id(s) {', '.join(unknown)}")
        return cls({t: [str(w) for w in ws] for t, ws in hints.items()})

    def topic(self, norm: str) -> str | None:
        m = self._re.search(norm) if self._re is not None else None
        return self._topic[m.group()] if m else None
