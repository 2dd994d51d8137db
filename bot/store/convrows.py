"""The conversation row, read and written through the database driver itself: the one row nearly every turn
touches, so a turn that touches nothing else pays for no ORM session, no SQL compiling and no result objects.

The values are stored exactly as the ORM stores them (the model `Conversation`): on SQLite `data` as JSON text and
`updated_at` as SQLAlchemy's DATETIME text in UTC ("2026-12-04 13:28:44.123456", which the ORM's comparisons
read), on PostgreSQL as json and timestamptz. Another database, or another driver, gets None from `for_engine` and
the state goes through the session as before. tests/store/test_convrows.py checks both ways against the ORM.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

COLUMNS = ("flow", "step", "data", "sealed", "updated_at")
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # sqlalchemy.dialects.sqlite.DATETIME's storage format


@dataclass(frozen=True)
class Row:
    flow: str | None
    step: str | None
    data: dict[str, Any] | None
    sealed: str | None
    updated_at: datetime | None  # aware, UTC


class ConversationRows:
    """Read one conversation row; upsert one and commit it. Each call takes a pooled connection and gives it back."""

    def __init__(self, db: Engine, *, select: str, upsert: str, json_text: bool) -> None:
        self._db = db
        self._select, self._upsert, self._json_text = select, upsert, json_text

    @classmethod
    def for_engine(cls, db: Engine) -> ConversationRows | None:
        """The driver-level statements for this database, or None where only the ORM is trusted to write."""
        names = ", ".join(COLUMNS)
        update = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS)
        driver = (db.dialect.name, db.dialect.driver)
        if driver == ("sqlite", "pysqlite"):
            return cls(db, select=f"SELECT {names} FROM conversations WHERE key = ?",
                       upsert=f"INSERT INTO conversations (key, {names}) VALUES (?, ?, ?, ?, ?, ?) "
                              f"ON CONFLICT (key) DO UPDATE SET {update}", json_text=True)
        if driver == ("postgresql", "psycopg"):
            return cls(db, select=f"SELECT {names} FROM conversations WHERE key = %s",
                       upsert=f"INSERT INTO conversations (key, {names}) "
                              f"VALUES (%s, %s, %s, CAST(%s AS JSON), %s, %s) ON CONFLICT (key) DO UPDATE SET {update}",
                       json_text=False)
        return None

    def read(self, key: str) -> Row | None:
        conn = self._db.raw_connection()
        try:
            cur = conn.cursor()
            cur.execute(self._select, (key,))
            found = cur.fetchone()
            cur.close()
        finally:
            conn.close()  # back to the pool, which ends the read (rollback on return)
        if found is None:
            return None
        flow, step, data, sealed, updated = found
        if isinstance(data, str):
            data = json.loads(data)
        return Row(flow, step, data, sealed, _from_db(updated))

    def write(self, key: str, flow: str | None, step: str | None, data: dict[str, Any], sealed: str | None,
              updated_at: datetime) -> None:
        """Insert or replace the row and commit; nothing half-written stays if the driver raises."""
        moment = updated_at.astimezone(UTC)
        conn = self._db.raw_connection()
        try:
            cur = conn.cursor()
            cur.execute(self._upsert, (key, flow, step, json.dumps(data), sealed,
                                       moment.strftime(_SQLITE_TIME) if self._json_text else moment))
            cur.close()
            conn.commit()
        finally:
            conn.close()  # an uncommitted write is rolled back on return to the pool


def _from_db(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value  # SQLite's text
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
