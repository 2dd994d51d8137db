"""Console sessions (rows keyed by a hash of the cookie token) and the in-memory ring of unlocked keys.

A session ends after IDLE minutes without a request, after MAX_AGE in any case, or at logout. An office
key unlocked in a session lives only in this process's memory, under that session, and is dropped
when the session ends or idles out — whether or not another request ever comes.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store.console_models import StaffAccount, StaffSession
from bot.store.models import utcnow
from bot.tips.sealing import UnlockedOfficeKey

IDLE = timedelta(minutes=30)
MAX_AGE = timedelta(hours=12)


def _aware(moment: datetime) -> datetime:
    """SQLite gives naive datetimes back; they were written in UTC."""
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Current:
    """The signed-in person of one request."""

    session_id: str
    account: StaffAccount
    csrf: str


class SessionStore:
    def __init__(self, digest: Callable[[str, str], str], idle: timedelta = IDLE, max_age: timedelta = MAX_AGE):
        self._digest = digest
        self.idle = idle
        self.max_age = max_age

    def session_id(self, token: str) -> str:
        return self._digest("staff-session", token)

    def csrf_for(self, token: str) -> str:
        return self._digest("staff-csrf", token)

    def create(self, session: Session, account: StaffAccount) -> str:
        """A new session for a signed-in account; returns the cookie token (never stored)."""
        token = secrets.token_urlsafe(32)
        session.add(StaffSession(id=self.session_id(token), staff_id=account.id))
        return token

    def resolve(self, session: Session, token: str | None) -> Current | None:
        """The live session of this token, touched; None if unknown, ended, idle too long or too old."""
        if not token or len(token) > 128:
            return None
        row = session.get(StaffSession, self.session_id(token))
        if row is None or row.ended_at is not None:
            return None
        now = utcnow()
        if now - _aware(row.last_seen_at) > self.idle or now - _aware(row.created_at) > self.max_age:
            row.ended_at = now
            return None
        account = session.get(StaffAccount, row.staff_id)
        if account is None or not account.active:
            row.ended_at = now
            return None
        row.last_seen_at = now
        return Current(row.id, account, self.csrf_for(token))

    def end(self, session: Session, session_id: str) -> None:
        row = session.get(StaffSession, session_id)
        if row is not None and row.ended_at is None:
            row.ended_at = utcnow()

    def live_ids(self, session: Session, ids: Iterable[str]) -> set[str]:
        """Which of these session ids are still live (for dropping the keys of the others)."""
        ids = list(ids)
        if not ids:
            return set()
        cutoff = utcnow() - self.idle
        rows = session.scalars(select(StaffSession).where(StaffSession.id.in_(ids), StaffSession.ended_at.is_(None)))
        return {r.id for r in rows if _aware(r.last_seen_at) >= cutoff}


@dataclass
class _Held:
    office_code: str
    key: UnlockedOfficeKey
    last_used: float


class KeyRing:
    """Unlocked office keys by session id, in this process only. Idle entries are swept by a timer."""

    def __init__(self, idle: timedelta = IDLE, clock: Callable[[], float] = time.monotonic,
                 sweep_every: float | None = 60.0) -> None:
        self._idle = idle.total_seconds()
        self._clock = clock
        self._held: dict[str, _Held] = {}
        self._unlocking: set[str] = set()  # sessions with an Argon2 unlock running now
        self._lock = threading.Lock()
        self._stop = threading.Event()
        if sweep_every:
            threading.Thread(target=self._sweeper, args=(sweep_every,), daemon=True, name="keyring-sweep").start()

    def put(self, session_id: str, office_code: str, key: UnlockedOfficeKey) -> None:
        with self._lock:
            self._held[session_id] = _Held(office_code, key, self._clock())

    def get(self, session_id: str, office_code: str) -> UnlockedOfficeKey | None:
        """The key unlocked in this session for this office (touching it), or None."""
        with self._lock:
            held = self._held.get(session_id)
            now = self._clock()
            if held is None or held.office_code != office_code:
                return None
            if now - held.last_used > self._idle:
                del self._held[session_id]
                return None
            held.last_used = now
            return held.key

    def begin_unlock(self, session_id: str) -> bool:
        """Claim this session's one unlock slot (False while another unlock of it runs): an Argon2 run of an
        office key takes up to 256 MiB, so one session never runs two at once."""
        with self._lock:
            if session_id in self._unlocking:
                return False
            self._unlocking.add(session_id)
            return True

    def end_unlock(self, session_id: str) -> None:
        with self._lock:
            self._unlocking.discard(session_id)

    def drop(self, session_id: str) -> None:
        with self._lock:
            self._held.pop(session_id, None)

    def session_ids(self) -> list[str]:
        with self._lock:
            return list(self._held)

    def keep_only(self, live: set[str]) -> None:
        with self._lock:
            for sid in [s for s in self._held if s not in live]:
                del self._held[sid]

    def sweep(self) -> int:
        """Drop keys idle longer than the session idle time; returns how many were dropped."""
        with self._lock:
            now = self._clock()
            stale = [sid for sid, held in self._held.items() if now - held.last_used > self._idle]
            for sid in stale:
                del self._held[sid]
            return len(stale)

    def __len__(self) -> int:
        return len(self._held)

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            self._held.clear()

    def _sweeper(self, every: float) -> None:
        while not self._stop.wait(every):
            self.sweep()
