"""Display helpers shared by the console and the exports: local time, office, category and flag labels."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from bot.offices import OfficeDirectory
from bot.tips.extract import Categories
from bot.tips.service import STATUS_LABELS

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
