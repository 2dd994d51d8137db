"""Sliding-window limits kept in the database (shared by every app process), keyed by keyed hashes.

Every limit is reserve-then-check: `reserve` first takes the (bucket, key) gate row with an upsert, which
holds that row's lock until the transaction ends (PostgreSQL: a row lock; SQLite: the database's write
lock), then counts the window and records the attempt only if it is within the limit. Concurrent attempts
on one key queue at the gate, so a burst of N attempts is evaluated at most `limit` times.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot.store.models import RateEvent, RateGate, utcnow
from bot.store.uow import UnitOfWork

# built once: a statement made per call cost more than running it (its expression, then its cache key)
_COUNT = (select(func.count()).select_from(RateEvent)
          .where(RateEvent.bucket == bindparam("bucket"), RateEvent.key == bindparam("key"),
                 RateEvent.created_at >= bindparam("since")))


class RateLimiter:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._reserved: dict[tuple[str, str], int] = {}

    def count(self, bucket: str, key: str, window: timedelta) -> int:
        return self.session.scalar(_COUNT, {"bucket": bucket, "key": key, "since": utcnow() - window}) or 0

    def allowed(self, bucket: str, key: str, limit: int, window: timedelta) -> bool:
        """A look without reserving (for showing state); never use it to decide an attempt."""
        return self.count(bucket, key, window) < limit

    def _gate(self, bucket: str, key: str) -> None:
        """Take the gate row of (bucket, key): an upsert, whose lock lasts until commit or rollback."""
        dialect = self.session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        stmt = insert(RateGate).values(bucket=bucket, key=key, hits=1, updated_at=utcnow())
        stmt = stmt.on_conflict_do_update(index_elements=["bucket", "key"],
                                          set_={"hits": RateGate.hits + 1, "updated_at": utcnow()})
        self.session.execute(stmt)

    def reserve(self, bucket: str, key: str, limit: int, window: timedelta, *, at: datetime | None = None) -> bool:
        """Count this attempt if the window has room for it (True), else refuse it (False); atomic."""
        self._gate(bucket, key)
        if self.count(bucket, key, window) >= limit:
            return False
        event = RateEvent(bucket=bucket, key=key, created_at=at or utcnow())
        self.session.add(event)
        self.session.flush()
        self._reserved[(bucket, key)] = event.id
        return True

    def release(self, bucket: str, key: str) -> None:
        """Give back the attempt this limiter reserved on (bucket, key): it should not count (it succeeded)."""
        reserved = self._reserved.pop((bucket, key), None)
        if reserved is not None:
            self.session.execute(delete(RateEvent).where(RateEvent.id == reserved))

    def clear(self, bucket: str, key: str) -> None:
        self.session.execute(delete(RateEvent).where(RateEvent.bucket == bucket, RateEvent.key == key))

    def hit(self, bucket: str, key: str) -> None:
        self.session.add(RateEvent(bucket=bucket, key=key))

    def prune(self, older_than: timedelta) -> int:
        cutoff = utcnow() - older_than
        result = self.session.execute(delete(RateEvent).where(RateEvent.created_at < cutoff))
        self.session.execute(delete(RateGate).where(RateGate.updated_at < cutoff))
        return result.rowcount or 0  # type: ignore[attr-defined]


def admit(uow: UnitOfWork, bucket: str, key: str, limit: int, window: timedelta) -> bool:
    """Count one use of `key` unless it already had `limit` in `window` (then nothing is written)."""
    limiter = RateLimiter(uow.session)
    if not limiter.allowed(bucket, key, limit, window):
        return False
    limiter.hit(bucket, key)
    uow.commit()
    return True
