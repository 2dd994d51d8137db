"""Display helpers shared by the console and the exports: local time, office, category and flag labels."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any, overload
from zoneinfo import ZoneInfo

import yaml

from bot.offices import OfficeDirectory
from bot.tips.extract import Categories
from bot.tips.service import STATUS_LABELS

# Control characters (C0 but tab and newline, DEL, C1) and bidirectional overrides/isolates: they break
# spreadsheets (openpyxl refuses them) and can make a shown name read backwards.
_UNSHOWABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")
DEFAULT_ZONE = "Asia/Shanghai"
_zone: list[tzinfo] = [ZoneInfo(DEFAULT_ZONE)]


def use_zone(name: str) -> None:
    """The one time zone of the console, the exports and the CLI (FUNDGUARD_TIMEZONE)."""
    _zone[0] = ZoneInfo(name)


def zone() -> tzinfo:
    return _zone[0]


def zone_label() -> str:
    """How the console names its time zone once per page: 北京时间, or the zone's IANA name."""
    name = str(zone())
    return "北京时间" if name in ("Asia/Shanghai", "Asia/Chongqing", "PRC") else name


@overload
def local(moment: datetime) -> datetime: ...
@overload
def local(moment: datetime | str | None) -> datetime | None: ...
def local(moment: datetime | str | None) -> datetime | None:
    """A stored moment (naive means UTC; an ISO string as sealed records keep it) in the local zone."""
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment)
        except ValueError:
            return None
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(zone())


def fmt(moment: datetime | str | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
    value = local(moment)
    return value.strftime(pattern) if value else ""


def clean_text(value: str) -> str:
    """Text a tipster typed, without control characters or direction overrides (for showing and exporting)."""
    return _UNSHOWABLE.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


@overload
def clean_value(value: dict[str, Any]) -> dict[str, Any]: ...
@overload
def clean_value(value: object) -> object: ...
def clean_value(value: object) -> object:
    """`clean_text` through the strings of a JSON-like value (dicts, lists); other values as they are."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {k: clean_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_value(v) for v in value]
    return value


def short_flag_label(text: str, limit: int = 16) -> str:
    head = text.split("（")[0].split("、")[0].strip()
    return head[:limit]


@dataclass(frozen=True)
class Labels:
    offices: OfficeDirectory
    categories: Categories
    flags: dict[str, str]

    @classmethod
    def load(cls, offices: OfficeDirectory, content_dir: Path) -> Labels:
        categories = Categories.load(content_dir / "tip_categories.yaml")
        doc = yaml.safe_load((content_dir / "spec" / "red_flags.yaml").read_text(encoding="utf-8"))
        flags = {k: str(v).strip() for k, v in (doc.get("red_flags") or {}).items()}
        return cls(offices, categories, flags)

    def area(self, code: str) -> str:
        office = self.offices.get(code)
        return office.area if office else code

    def category(self, code: str) -> str:
        return self.categories.label(code)

    def status(self, code: str) -> str:
        return STATUS_LABELS.get(code, code)

    def flag(self, code: str) -> str:
        """The flag's whole label, as the risk check's specification words it."""
        return self.flags.get(code, code)

    def flag_short(self, code: str) -> str:
        """A few words for a narrow column (the whole label goes beside it, e.g. as a title)."""
        return short_flag_label(self.flag(code))

    def flag_list(self, codes: list[str] | None) -> str:
        return "；".join(self.flag(c) for c in codes or [])  # the labels themselves contain 、
