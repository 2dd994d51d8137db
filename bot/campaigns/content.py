"""Campaign pieces and the calendar, loaded from content/campaigns/ and validated; rendered per channel."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from string import Template
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, Field, field_validator, model_validator

from bot.messages import PUSH_CHANNELS, Button, Outbound
from bot.store.subscribers import AUDIENCES

TELEGRAM_LIMIT = 4096        # characters in one Telegram message
WECHAT_LIMIT = 2048          # bytes of UTF-8 in one WeChat customer-service text
UNSUBSCRIBE_BUTTON = "退订推送"  # a quick reply the engine already routes to the unsubscribe topic
FOOTER = "不想再收，回复“退订”即可。"
GROUPS = ("elderly", "student", "finance_staff", "civil_servant")


class Article(BaseModel):
    url: str
    digest: str = Field(min_length=1, max_length=120)

    @field_validator("url")
    @classmethod
    def _https(cls, v: str) -> str:
        if not v.startswith("https://"):
            raise ValueError("an article link must start with https://")
        return v


class WeChatPart(BaseModel):
    text: str | None = None       # a version written for WeChat (else the common text)
    article: Article | None = None  # render as a short digest with a link to the full article


class Piece(BaseModel):
    id: str = Field(pattern=r"^[a-z0-9_]{3,64}$")
    audience: str
    title: str = Field(min_length=2, max_length=30)
    text: str = Field(min_length=20)
    basis: str = Field(min_length=4)
    buttons: list[str] = Field(min_length=1, max_length=3)
    wechat: WeChatPart = Field(default_factory=WeChatPart)
    calendar: bool = False

    @field_validator("audience")
    @classmethod
    def _audience(cls, v: str) -> str:
        if v != "all" and v not in AUDIENCES:
            raise ValueError(f"unknown audience {v!r} (one of {', '.join(AUDIENCES)}, all)")
        return v

    @field_validator("text", "basis")
    @classmethod
    def _strip(cls, v: str) -> str:
        return v.strip()

    def render(self, channel: str, values: dict[str, str]) -> Outbound:
        """The one message this piece becomes on `channel`.

        Telegram: text + quick-reply buttons (and 退订推送). WeChat: a customer-service text naming the
        replies to type (a push is outside any dialogue, so numbered choices would not be understood),
        or, when an article is set, a digest with a link to it.
        """
        head = f"【{self.title}】"
        if channel == "wechat" and self.wechat.article is not None:
            a = self.wechat.article
            body = f'{head}\n{a.digest}\n<a href="{a.url}">点这里阅读全文</a>\n{FOOTER}'
            return Outbound(Template(body).safe_substitute(values))
        if channel == "wechat":  # a push has no quick replies there: say what to type instead
            text = self.wechat.text.strip() if self.wechat.text else self.text
            hint = "想了解更多，可以回复：" + "、".join(f"“{b}”" for b in self.buttons) + "。"
            body = "\n".join([head, text, f"【依据】{self.basis}", hint, FOOTER])
            return Outbound(Template(body).safe_substitute(values))
        body = "\n".join([head, self.text, f"【依据】{self.basis}", FOOTER])
        buttons = [*self.buttons, UNSUBSCRIBE_BUTTON]
        return Outbound(Template(body).safe_substitute(values), tuple(Button(b) for b in buttons))


class CalendarEntry(BaseModel):
    id: str = Field(pattern=r"^[a-z0-9_]{3,40}$")
    name: str = Field(min_length=2, max_length=60)
    piece: str
    audiences: list[str] = Field(default_factory=list)  # empty: everyone
    every_year: str | None = None      # "MM-DD"
    on_dates: list[date] = Field(default_factory=list)  # fixed dates (lunar festivals move every year)
    at: time                           # local time of day

    @model_validator(mode="after")
    def _one_kind_of_date(self) -> CalendarEntry:
        if bool(self.every_year) == bool(self.on_dates):
            raise ValueError(f"calendar {self.id}: give either `every_year` (MM-DD) or `on_dates`")
        if self.every_year:
            month, day = (int(x) for x in self.every_year.split("-"))
            date(2024, month, day)  # a leap year accepts every real MM-DD
        return self

    def occurrences(self, start: date, end: date, tz: ZoneInfo) -> list[datetime]:
        """Local start times of this entry between `start` and `end` (inclusive)."""
        days: list[date] = list(self.on_dates)
        if self.every_year:
            month, day = (int(x) for x in self.every_year.split("-"))
            days = []
            for year in range(start.year, end.year + 1):
                try:
                    days.append(date(year, month, day))
                except ValueError:  # 02-29 outside leap years
                    continue
        return [datetime.combine(d, self.at, tz) for d in sorted(days) if start <= d <= end]


def read_piece(path: Path) -> Piece:
    """One piece file, parsed and validated."""
    return Piece.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def read_calendar(path: Path) -> list[CalendarEntry]:
    """campaigns/calendar.yaml: the dated campaigns."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(raw, dict):
        raise ValueError("expected a mapping with `entries`")
    return [CalendarEntry.model_validate(e) for e in raw.get("entries", [])]


class Library(BaseModel):
    pieces: dict[str, Piece]
    calendar: list[CalendarEntry]
    values: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> Library:
        for pid, piece in self.pieces.items():
            if piece.id != pid:
                raise ValueError(f"piece file {pid}.yaml declares id {piece.id!r}")
            for channel in PUSH_CHANNELS:
                out = piece.render(channel, self.values)
                if self.values and "${" in out.text:
                    raise ValueError(f"piece {pid}: an unknown ${{placeholder}} in the {channel} text")
                if len(out.text) > TELEGRAM_LIMIT or len(out.text.encode()) > WECHAT_LIMIT:
                    raise ValueError(f"piece {pid}: the {channel} text is {len(out.text.encode())} bytes, too long")
        seen: set[str] = set()
        for entry in self.calendar:
            if entry.id in seen:
                raise ValueError(f"calendar entry {entry.id} appears twice")
            seen.add(entry.id)
            if entry.piece not in self.pieces:
                raise ValueError(f"calendar {entry.id}: unknown piece {entry.piece!r}")
            for a in entry.audiences:
                if a not in AUDIENCES:
                    raise ValueError(f"calendar {entry.id}: unknown audience {a!r}")
        return self

    @classmethod
    def load(cls, content_dir: Path, values: dict[str, str] | None = None) -> Library:
        folder = content_dir / "campaigns"
        pieces: dict[str, Piece] = {}
        for path in sorted((folder / "pieces").glob("*.yaml")):
            try:
                pieces[path.stem] = read_piece(path)
            except (ValueError, yaml.YAMLError) as exc:
                raise ValueError(f"{path.name}: {exc}") from exc
        return cls(pieces=pieces, calendar=read_calendar(folder / "calendar.yaml"), values=values or {})

    def problems(self, known_buttons: set[str] | None = None) -> list[str]:
        """Editorial rules beyond the schema: coverage of every group, buttons the engine understands."""
        out: list[str] = []
        regular = [p for p in self.pieces.values() if not p.calendar]
        for group in (*GROUPS, "low_income", "public"):
            n = sum(1 for p in regular if p.audience == group)
            if n < 2:
                out.append(f"only {n} piece(s) for {group}; at least 2 are needed")
        if known_buttons is not None:
            for p in self.pieces.values():
                out += [f"piece {p.id}: button {b!r} leads nowhere" for b in p.buttons if b not in known_buttons]
        return out

    def audiences_of(self, piece_id: str) -> list[str]:
        """The audiences a piece is written for (empty: everyone)."""
        a = self.pieces[piece_id].audience
        return [] if a == "all" else [a]
