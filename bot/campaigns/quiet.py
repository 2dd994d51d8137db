"""Quiet hours: no pushes between 21:00 and 08:00 local time (Asia/Shanghai by default)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


class QuietHours:
    """A daily local-time range in which nothing is pushed; the range may wrap past midnight."""

    def __init__(self, spec: str = "21:00-08:00", tz: str = "Asia/Shanghai") -> None:
        self.tz = ZoneInfo(tz)
        self.start: time | None = None
        self.end: time | None = None
        if spec.strip():
            a, b = (part.strip() for part in spec.split("-", 1))
            self.start, self.end = time.fromisoformat(a), time.fromisoformat(b)
            if self.start == self.end:
                raise ValueError("quiet hours must not be empty or the whole day")

    @property
    def enabled(self) -> bool:
        return self.start is not None

    def is_quiet(self, when: datetime) -> bool:
        if self.start is None or self.end is None:
            return False
        local = when.astimezone(self.tz).time()
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def next_open(self, when: datetime) -> datetime:
        """The first moment at or after `when` outside quiet hours (UTC)."""
        if not self.is_quiet(when) or self.end is None:
            return when.astimezone(UTC)
        local = when.astimezone(self.tz)
        opening = datetime.combine(local.date(), self.end, self.tz)
        if opening <= local:
            opening = datetime.combine(local.date() + timedelta(days=1), self.end, self.tz)
        return opening.astimezone(UTC)

    def describe(self) -> str:
        if self.start is None or self.end is None:
            return "off"
        return f"{self.start:%H:%M}-{self.end:%H:%M} {self.tz.key}"
