"""The knowledge base: loads and validates content/, answers a topic.

Office staff edit content/topics/*.yaml; this module refuses content that breaks the contract
(an unknown topic id, a missing answer, a reply too long for one WeChat passive reply), and
`style_problems` lists what breaks the house style of content/style.yaml (a 你, a first screen or a
sentence too long, a citation outside the allowed list): the content tests and `fundguard content
check` fail on those.
"""

from __future__ import annotations

import re
from pathlib import Path
from string import Template

import yaml
from pydantic import BaseModel, Field, PrivateAttr, field_validator, model_validator

from bot.messages import Button, Outbound

WECHAT_PASSIVE_LIMIT = 2048  # bytes of UTF-8 in one WeChat passive reply
MORE_HINT = "回复“更多”看详细说明和法律依据"
MORE_WORDS = frozenset({
    "更多", "详细", "详细说明", "more", "还有呢", "展开", "依据", "法律依据", "详细说说", "具体说说", "细说",
    "说详细点", "说细点", "详细点", "展开说说", "多说点", "再说说", "再详细点", "具体点", "详细讲讲", "讲讲",
    "说具体点", "说具体些", "讲具体点", "具体讲讲", "讲详细点", "说清楚点", "讲清楚点",
})
# 再讲讲, 能再说说吗, 详细讲一下, 多讲点呗: "more", said in other words (the whole message)
_MORE_SAID = re.compile(
    r"^(那|你|您|麻烦|能不能|能|可以|可不可以|请)*(再|多|详细|具体|仔细|展开|细|接着|继续)+(地)?"
    r"(说|讲|聊|介绍|解释|讲解|说明)+(一下|一点|点|些|下|说|讲|清楚|清楚点|详细点|细点)*"
    r"(吗|呗|吧|呢|嘛|哈|啊|呀|不|么)?[?？~～]*$"
)


def is_more(text: str) -> bool:
    """更多, or a short way of asking for more (再讲讲, 能详细说说吗)."""
    said = text.strip(" 。.!！~～").lower()
    if said in ("再说", "再说吧"):  # "later", not "more"
        return False
    return said in MORE_WORDS or (len(said) <= 12 and _MORE_SAID.match(said) is not None)


SENTENCE_END = re.compile(r"[。！？；!?\n]")


def load_topic_ids(spec_path: Path) -> dict[str, str]:
    """topic id → description, from topics.yaml (the contract)."""
    data = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    return dict(data["topics"])


class Style(BaseModel):
    """content/style.yaml: the closer and the limits every answer is checked against."""

    closer: str = ""
    first_screen_max: int = 200
    sentence_max: int = 30
    forbidden: list[str] = Field(default_factory=list)
    citations: list[str] = Field(default_factory=list)

    @classmethod
    def load(cls, content_dir: Path) -> Style:
        path = content_dir / "style.yaml"
        if not path.exists():
            return cls()
        return cls.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


class FollowUp(BaseModel):
    label: str = Field(min_length=1, max_length=20)
    topic: str


class TopicAnswer(BaseModel):
    id: str
    title: str = Field(min_length=1, max_length=40)
    answer: str = Field(min_length=1)
    basis: str | None = None
    more: str | None = None
    closer: bool = True           # false for greetings, thanks and the like
    buttons: list[FollowUp] = Field(min_length=2, max_length=4)

    @field_validator("answer", "more")
    @classmethod
    def _strip(cls, v: str | None) -> str | None:
        return v.strip() if v else v

    @classmethod
    def read(cls, path: Path) -> TopicAnswer:
        """One topic file, parsed and validated (what `KnowledgeBase.load` reads for each topic)."""
        return cls.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))

    def first_screen(self, values: dict[str, str], closer: str = "") -> str:
        """The title, the answer and the closer: what is read before any scrolling."""
        parts = [f"【{self.title}】", self.answer]
        if self.closer and closer:
            parts.append(closer)
        return Template("\n".join(parts)).safe_substitute(values)

    def render(self, values: dict[str, str], closer: str = "") -> str:
        text = self.first_screen(values, closer)
        return f"{text}\n{MORE_HINT}" if self.more or self.basis else text

    def render_more(self, values: dict[str, str]) -> str | None:
        parts = [p for p in (self.more, f"【依据】{self.basis}" if self.basis else None) if p]
        return Template("\n".join(parts)).safe_substitute(values) if parts else None


def screen_length(text: str) -> int:
    """Characters a reader sees (line breaks not counted)."""
    return len(text.replace("\n", ""))


class KnowledgeBase(BaseModel):
    topics: dict[str, TopicAnswer]
    values: dict[str, str] = Field(default_factory=dict)
    style: Style = Field(default_factory=Style)
    # a topic's answer and its "更多", rendered once: the content is read at start-up and never changes
    _rendered: dict[tuple[str, bool], Outbound | None] = PrivateAttr(default_factory=dict)

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
            for text in (t.render(self.values, self.style.closer), t.render_more(self.values)):
                if text and len(text.encode("utf-8")) > WECHAT_PASSIVE_LIMIT:
                    raise ValueError(
                        f"topic {tid}: a reply is {len(text.encode())} bytes, over {WECHAT_PASSIVE_LIMIT}"
                    )
        return self

    @classmethod
    def load(cls, content_dir: Path, topic_ids: dict[str, str], values: dict[str, str]) -> KnowledgeBase:
        topics: dict[str, TopicAnswer] = {}
        for path in sorted((content_dir / "topics").glob("*.yaml")):
            if path.stem not in topic_ids:
                raise ValueError(f"{path.name}: {path.stem!r} is not a topic id of topics.yaml")
            topics[path.stem] = TopicAnswer.read(path)
        missing = sorted(set(topic_ids) - set(topics))
        if missing:
            raise ValueError(f"topics without an answer: {', '.join(missing)}")
        return cls(topics=topics, values=values, style=Style.load(content_dir))

    def button_map(self) -> dict[str, str]:
        """Every follow-up label → its topic (a tapped button routes without the NLU)."""
        return {b.label: b.topic for t in self.topics.values() for b in t.buttons}

    def answer(self, topic: str) -> Outbound:
        rendered = self._cache()
        out = rendered.get((topic, False))
        if out is None:
            t = self.topics[topic]
            out = Outbound(t.render(self.values, self.style.closer), tuple(Button(b.label) for b in t.buttons))
            rendered[(topic, False)] = out
        return out

    def more(self, topic: str) -> Outbound | None:
        rendered = self._cache()
        if (topic, True) not in rendered:
            t = self.topics[topic]
            text = t.render_more(self.values)
            buttons = tuple(Button(b.label) for b in t.buttons)
            rendered[(topic, True)] = None if text is None else Outbound(text, buttons)
        return rendered[(topic, True)]

    def _cache(self) -> dict[tuple[str, bool], Outbound | None]:
        # read from pydantic's own slot: `self._rendered` goes through its __getattr__, which raises and catches two
        # AttributeErrors on every read (measured: ~3 % of a plain question's instructions)
        return self.__pydantic_private__["_rendered"]  # type: ignore[index,no-any-return]

    def title(self, topic: str) -> str:
        return self.topics[topic].title

    def basis(self, topic: str) -> str | None:
        """The legal basis of a topic's answer (shown under “更多”)."""
        return self.topics[topic].basis

    def first_screen(self, topic: str) -> str:
        return self.topics[topic].first_screen(self.values, self.style.closer)

    def style_problems(self) -> list[str]:
        """Every break of content/style.yaml, one line each, "topic: what is wrong"."""
        s, out = self.style, []
        for tid, t in self.topics.items():
            screen = self.first_screen(tid)
            for word in s.forbidden:
                for name, text in (("title", t.title), ("answer", t.answer), ("more", t.more or "")):
                    if word in text:
                        out.append(f"{tid}: {name} says {word!r} (say 您)")
            if screen_length(screen) > s.first_screen_max:
                out.append(f"{tid}: first screen is {screen_length(screen)} characters, over {s.first_screen_max}")
            for sentence in SENTENCE_END.split(screen):
                if len(sentence.strip()) > s.sentence_max:
                    out.append(f"{tid}: sentence of {len(sentence.strip())} characters over {s.sentence_max}: "
                               f"{sentence.strip()}")
            for part in (p.strip() for p in (t.basis or "").split("；") if p.strip()):
                if s.citations and not part.startswith(tuple(s.citations)):
                    out.append(f"{tid}: citation not in the allowed list of style.yaml: {part}")
        for word in s.forbidden:
            if word in s.closer:
                out.append(f"style.yaml: the closer says {word!r}")
        return out
