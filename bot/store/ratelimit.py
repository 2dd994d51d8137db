"""Sliding-window limits kept in the database (shared by every app process), keyed by keyed hashes."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.store.models import RateEvent, utcnow


class RateLimiter:
    def __init__(self, session: Session) -> None:
        self.session = session

    def count(self, bucket: str, key: str, window: timedelta) -> int:
        since = utcnow() - window
        return self.session.scalar(
            select(func.count()).select_from(RateEvent)
            .where(RateEvent.bucket == bucket, RateEvent.key == key, RateEvent.created_at >= since)
        ) or 0

    def allowed(self, bucket: str, key: str, limit: int, window: timedelta) -> bool:
        return self.count(bucket, key, window) < limit

    def hit(self, bucket: str, key: str) -> None:
        self.session.add(RateEvent(bucket=bucket, key=key))

    def prune(self, older_than: timedelta) -> int:
        result = self.session.execute(delete(RateEvent).where(RateEvent.created_at < utcnow() - older_than))
        return result.rowcount or 0  # type: ignore[attr-defined]
