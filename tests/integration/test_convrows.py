"""The conversation row through the driver (bot/store/convrows.py) reads and writes exactly what the ORM does, on
SQLite and on PostgreSQL: a row written one way is read the same the other way, and the stale-draft purge (an ORM
comparison on updated_at) finds a row the driver wrote."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session

from bot.store.convrows import ConversationRows
from bot.store.db import make_engine
from bot.store.models import Conversation
from bot.tips.drafts import purge_stale_drafts

DATA = {"last_topic": "definition", "county": "石泉县", "case0": {"flags": [], "at": 1764855000.5}, "n": 3}


def _rows(url: str) -> tuple[ConversationRows, Engine]:
    db = make_engine(url)
    rows = ConversationRows.for_engine(db)
    assert rows is not None, url
    return rows, db


def test_driver_write_reads_back_through_the_orm(db_url: str) -> None:
    rows, db = _rows(db_url)
    at = datetime(2026, 12, 4, 13, 28, 44, 123456, tzinfo=UTC)
    rows.write("k1", "tip", "county", DATA, "sealed-token", at)
    rows.write("k2", None, None, {}, None, at)
    rows.write("k2", None, None, {"last_topic": "law"}, None, at + timedelta(seconds=1))  # the upsert replaces
    with Session(db) as s:
        one, two = s.get(Conversation, "k1"), s.get(Conversation, "k2")
        assert one is not None and two is not None
        assert (one.flow, one.step, one.data, one.sealed) == ("tip", "county", DATA, "sealed-token")
        assert one.updated_at.replace(tzinfo=UTC) == at
        assert (two.flow, two.data) == (None, {"last_topic": "law"})
        assert two.updated_at.replace(tzinfo=UTC) == at + timedelta(seconds=1)
    db.dispose()


def test_orm_write_reads_back_through_the_driver(db_url: str) -> None:
    rows, db = _rows(db_url)
    at = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    with Session(db) as s:
        s.add(Conversation(key="k3", flow="status", step="receipt", data=DATA, sealed="t", updated_at=at))
        s.commit()
    row = rows.read("k3")
    assert row is not None
    assert (row.flow, row.step, row.data, row.sealed, row.updated_at) == ("status", "receipt", DATA, "t", at)
    assert row.updated_at is not None and row.updated_at.tzinfo is not None
    assert rows.read("nobody") is None
    db.dispose()


def test_the_purge_compares_driver_written_times(db_url: str) -> None:
    rows, db = _rows(db_url)
    now = datetime.now(UTC)
    rows.write("old", "tip", "county", {}, "draft", now - timedelta(hours=2))
    rows.write("new", "tip", "county", {}, "draft", now - timedelta(minutes=5))
    with Session(db) as s:
        assert purge_stale_drafts(s, timedelta(minutes=30)) == 1
        s.commit()
    old, new = rows.read("old"), rows.read("new")
    assert old is not None and new is not None
    assert (old.flow, old.sealed) == (None, None)
    assert (new.flow, new.sealed) == ("tip", "draft")
    db.dispose()


def test_a_failed_write_leaves_nothing(sqlite_url: str) -> None:
    rows, db = _rows(sqlite_url)
    with pytest.raises(sqlite3.ProgrammingError):  # a value the driver cannot bind: nothing half-written stays behind
        rows.write("k4", "tip", "county", {}, object(), datetime.now(UTC))
    assert rows.read("k4") is None
    rows.write("k4", None, None, {"ok": 1}, None, datetime.now(UTC))  # and the pooled connection still works
    assert (row := rows.read("k4")) is not None and row.data == {"ok": 1}
    db.dispose()


def test_other_drivers_keep_the_orm() -> None:
    assert ConversationRows.for_engine(create_engine("sqlite+pysqlite:///:memory:")) is not None
    other = SimpleNamespace(dialect=SimpleNamespace(name="mysql", driver="pymysql"))
    assert ConversationRows.for_engine(other) is None  # type: ignore[arg-type]


@pytest.mark.postgres
def test_a_connection_the_server_closed_is_replaced(postgres_url: str) -> None:
    rows, db = _rows(postgres_url)
    rows.write("k5", None, None, {"n": 1}, None, datetime.now(UTC))
    pids = [conn.info.backend_pid for conn in rows._all]
    assert pids
    with db.connect() as admin:  # the server drops the rows' connections (as a restart would)
        for pid in pids:
            admin.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})")
    assert (row := rows.read("k5")) is not None and row.data == {"n": 1}  # once more, on a new connection
    rows.write("k5", None, None, {"n": 2}, None, datetime.now(UTC))
    assert (row := rows.read("k5")) is not None and row.data == {"n": 2}
    db.dispose()


def test_disposing_the_engine_closes_its_connections(sqlite_url: str) -> None:
    rows, db = _rows(sqlite_url)
    rows.write("k6", None, None, {}, None, datetime.now(UTC))
    made = list(rows._all)
    assert made
    db.dispose()
    for conn in made:
        with pytest.raises(sqlite3.ProgrammingError):  # "Cannot operate on a closed database"
            conn.execute("SELECT 1")
    assert rows.read("k6") is not None  # and the next call opens a new one
    db.dispose()
