"""The knowledge base: loads and validates content/, answers a topic.

Office staff edit content/topics/*.yaml; this module refuses content that breaks the contract
(an unknown topic id, a missing answer, a reply too long for one WeChat passive reply).
"""

from __future__ import annotations

from pathlib import Path
from string import Template

import yaml
from pydantic import BaseModel, Field, field_validator, model_validator

from bot.messages import Button, Outbound

WECHAT_PASSIVE_LIMIT = 2048  # bytes of UTF-8 in one WeChat passive reply
MORE_HINT = "回复“更多”看详细说明"
MORE_WORDS = frozenset({
    "更多", "详细", "详细说明", "more", "还有呢", "展开", "详细说说", "具体说说", "细说", "说详细点", "说细点",
    "详细点", "展开说说", "多说点", "再说说", "再详细点", "具体点", "详细讲讲", "讲讲",
})


def load_topic_ids(spec_path: Path) -> dict[str, str]:
    """topic id → description, from topics.yaml (the contract)."""
    data = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    return dict(data["topics"])


class FollowUp(BaseModel):
    label: str = Field(min_length=1, max_length=20)
    topic: str


class TopicAnswer(BaseModel):
    id: str
    title: str = Field(min_length=1, max_length=40)
    answer: str = Field(min_length=1)
    basis: str | None = None
    more: str | None = None
    buttons: list[FollowUp] = Field(min_length=2, max_length=4)

    @field_validator("answer", "more")
    @classmethod
    def _strip(cls, v: str | None) -> str | None:
        return v.strip() if v else v

    def render(self, values: dict[str, str]) -> str:
        parts = [f"【{self.title}】", self.answer]
        if self.basis:
            parts.append(f"【依据】{self.basis}")
        if self.more:
            parts.append(MORE_HINT)
        return Template("\n".join(parts)).safe_substitute(values)

    def render_more(self, values: dict[str, str]) -> str | None:
        return Template(self.more).safe_substitute(values) if self.more else None


class KnowledgeBase(BaseModel):
    topics: dict[str, TopicAnswer]
    values: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> KnowledgeBase:
        labels: dict[str, str] = {}
        for tid, t in self.topics.items():
            if t.id != tid:
                raise ValueError(f"topic file {tid}.yaml declares id {t.id!r}")
            for b in t.buttons:
                if b.topic not in self.topics:
                    raise ValueError(f"topic {tid}: button {b.label!r} points to unknown topic {b.topic!r}")
                if labels.setdefault(b.label, b.topic) != b.topic:
                    raise ValueError(f"button label {b.label!r} points to two topics")
            for text in (t.render(self.values), t.render_more(self.values)):
                if text and len(text.encode("utf-8")) > WECHAT_PASSIVE_LIMIT:
                    raise ValueError(
                        f"topic {tid}: a reply is {len(text.encode())} bytes, over {WECHAT_PASSIVE_LIMIT}"
                    )
        return self

    @classmethod
    def load(cls, content_dir: Path, topic_ids: dict[str, str], values: dict[str, str]) -> KnowledgeBase:
        topics: dict[str, TopicAnswer] = {}
        for path in sorted((content_dir / "topics").glob("*.yaml")):
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
            if path.stem not in topic_ids:
                raise ValueError(f"{path.name}: {path.stem!r} is not a topic id of topics.yaml")
            topics[path.stem] = TopicAnswer.model_validate(raw)
        missing = sorted(set(topic_ids) - set(topics))
        if missing:
            raise ValueError(f"topics without an answer: {', '.join(missing)}")
        return cls(topics=topics, values=values)

    def button_map(self) -> dict[str, str]:
        """Every follow-up label → its topic (a tapped button routes without the NLU)."""
        return {b.label: b.topic for t in self.topics.values() for b in t.buttons}

    def answer(self, topic: str) -> Outbound:
        t = self.topics[topic]
        return Outbound(t.render(self.values), tuple(Button(b.label) for b in t.buttons))

    def more(self, topic: str) -> Outbound | None:
        t = self.topics[topic]
        text = t.render_more(self.values)
        if text is None:
            return None
        return Outbound(text, tuple(Button(b.label) for b in t.buttons))

    def title(self, topic: str) -> str:
        return self.topics[topic].title
