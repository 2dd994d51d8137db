"""The conversation row, read and written through the database driver itself: the one row nearly every turn
touches, so a turn that touches nothing else pays for no ORM session, no SQL compiling and no result objects.

The values are stored exactly as the ORM stores them (the model `Conversation`): on SQLite `data` as JSON text and
`updated_at` as SQLAlchemy's DATETIME text in UTC ("2026-12-04 13:28:44.123456", which the ORM's comparisons
read), on PostgreSQL as json and timestamptz. Another database, or another driver, gets None from `for_engine` and
the state goes through the session as before. tests/store/test_convrows.py checks both ways against the ORM.
"""

from __future__ import annotations

import contextlib
import json
import queue
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, event

COLUMNS = ("flow", "step", "data", "sealed", "updated_at")


@dataclass(frozen=True)
class Row:
    flow: str | None
    step: str | None
    data: dict[str, Any] | None
    sealed: str | None
    updated_at: datetime | None  # aware, UTC


class ConversationRows:
    """Read one conversation row; upsert one (committed at once). Each call takes a connection of its own free list
    and puts it back: connections made through the engine (its connect events, SQLite's pragmas, apply), then set
    to autocommit, so a read holds no transaction and a write is one statement, committed by the database."""

    def __init__(self, db: Engine, *, select: str, upsert: str, json_text: bool) -> None:
        self._db = db
        self._select, self._upsert, self._json_text = select, upsert, json_text
        self._free: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._all: list[Any] = []  # every connection made, closed when the engine is disposed
        self._lock = threading.Lock()
        event.listen(db, "engine_disposed", lambda _engine: self.close())

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
        found = self._run(self._select, (key,), fetch=True)
        if found is None:
            return None
        flow, step, data, sealed, updated = found
        if isinstance(data, str):
            data = json.loads(data)
        return Row(flow, step, data, sealed, _from_db(updated))

    def write(self, key: str, flow: str | None, step: str | None, data: dict[str, Any], sealed: str | None,
              updated_at: datetime) -> None:
        """Insert or replace the row: one statement, committed when it returns (or not written at all)."""
        moment = updated_at.astimezone(UTC)
        self._run(self._upsert, (key, flow, step, json.dumps(data), sealed,
                                 _sqlite_time(moment) if self._json_text else moment), fetch=False)

    def close(self) -> None:
        """Close every connection (the engine was disposed); a later call opens new ones."""
        with self._lock:
            made, self._all = self._all, []
        while True:
            try:
                self._free.get_nowait()
            except queue.Empty:
                break
        for conn in made:
            with contextlib.suppress(Exception):
                conn.close()

    def _run(self, sql: str, params: tuple[Any, ...], *, fetch: bool) -> Any:
        for attempt in (1, 2):
            conn = self._take()
            try:
                cur = conn.cursor()
                cur.execute(sql, params)
                found = cur.fetchone() if fetch else None
                cur.close()
            except self._db.dialect.loaded_dbapi.Error as exc:
                self._drop(conn)
                # a connection the server closed (PostgreSQL restarted): once more on a new one; else the error
                if attempt == 1 and self._db.dialect.is_disconnect(exc, conn, None):
                    continue
                raise
            except BaseException:
                self._drop(conn)
                raise
            self._free.put(conn)
            return found
        raise AssertionError("unreachable")  # pragma: no cover

    def _take(self) -> Any:
        try:
            return self._free.get_nowait()
        except queue.Empty:
            pass
        proxied = self._db.raw_connection()
        conn: Any = proxied.driver_connection
        proxied.detach()  # ours from now on: never checked back into the engine's pool
        if self._json_text:
            conn.isolation_level = None  # sqlite3: autocommit (each statement its own transaction)
        else:
            conn.autocommit = True
        with self._lock:
            self._all.append(conn)
        return conn

    def _drop(self, conn: Any) -> None:
        with self._lock:
            if conn in self._all:
                self._all.remove(conn)
        with contextlib.suppress(Exception):
            conn.close()


def _sqlite_time(moment: datetime) -> str:
    """SQLAlchemy's SQLite DATETIME text ("%Y-%m-%d %H:%M:%S.%f", microseconds always), without strftime's cost."""
    return moment.replace(tzinfo=None).isoformat(" ", "microseconds")


def _from_db(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value  # SQLite's text
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
