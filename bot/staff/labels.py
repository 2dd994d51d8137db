"""Display helpers shared by the console and the exports: local time, office, category and flag labels."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import yaml

from bot.offices import OfficeDirectory
from bot.tips.extract import Categories
from bot.tips.service import STATUS_LABELS

LOCAL_TZ = timezone(timedelta(hours=8), "UTC+8")  # China Standard Time, no daylight saving


def local(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(LOCAL_TZ)


def fmt(moment: datetime | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
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
        flags = {k: short_flag_label(str(v)) for k, v in (doc.get("red_flags") or {}).items()}
        return cls(offices, categories, flags)

    def area(self, code: str) -> str:
        office = self.offices.get(code)
        return office.area if office else code

    def category(self, code: str) -> str:
        return self.categories.label(code)

    def status(self, code: str) -> str:
        return STATUS_LABELS.get(code, code)

    def flag(self, code: str) -> str:
        return self.flags.get(code, code)

    def flag_list(self, codes: list[str] | None) -> str:
        return "、".join(self.flag(c) for c in codes or [])
