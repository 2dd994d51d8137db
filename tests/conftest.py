"""Shared fixtures: a network guard, databases (SQLite and PostgreSQL), the app wired for tests."""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.shared_run import drop_database_later, remember_parsed_yaml, run_lock, run_temp, slow_modules_first

REPO = Path(__file__).resolve().parent.parent
# Servers the tests start are not pinned unless a test asks (`fundguard serve` pins by default when it has a CPU to
# spare: the servers of both xdist workers would all start on CPU 0).
os.environ.setdefault("FUNDGUARD_PIN_CPUS", "")
POSTGRES_URL = os.environ.get("FUNDGUARD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# --- a network guard: no test may reach beyond this machine --------------------------------------
_real_connect = socket.socket.connect


def _guarded_connect(self, address):  # type: ignore[no-untyped-def]
    if isinstance(address, tuple) and self.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0]
        if host not in ("127.0.0.1", "::1", "localhost") and not str(host).startswith("127."):
            raise RuntimeError(f"test tried to reach the network: {host}")
    return _real_connect(self, address)


socket.socket.connect = _guarded_connect  # type: ignore[method-assign]


# --- parsed YAML remembered; a run's xdist workers share its temporary folder (tests/shared_run.py) ----
remember_parsed_yaml()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    slow_modules_first(items)


def free_port() -> int:
    """A local TCP port nobody listens on (the socket that found it is closed again)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- databases -------------------------------------------------------------------------------------
def _postgres_or_skip() -> str:
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL unreachable at {POSTGRES_URL} under CI: {exc}")
        pytest.skip(f"PostgreSQL unreachable ({type(exc).__name__}); skipped outside CI")
    return POSTGRES_URL


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated to head, dropped at the end (in the background)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from bot.store.db import upgrade

    base = _postgres_or_skip()
    name = f"fg_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    admin.dispose()
    drop_database_later(base, name)


def _truncate_all(url: str) -> None:
    """Every table emptied and every sequence restarted. DELETE, children first, rather than TRUNCATE: on the few
    rows a test leaves it takes milliseconds where TRUNCATE of 22 tables took a third of a second."""
    from sqlalchemy import create_engine, text

    from bot.store.schema import metadata

    engine = create_engine(url)
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
        sequences = conn.execute(text("SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()"))
        for name in sequences.scalars().all():
            conn.execute(text(f'ALTER SEQUENCE "{name}" RESTART'))
    engine.dispose()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated to head once per session; tests get copies of it."""
    from bot.store.db import upgrade

    path = tmp_path_factory.mktemp("sqlite-template") / "fundguard.db"
    upgrade(f"sqlite:///{path}")
    with sqlite3.connect(path) as conn:  # everything in the main file, nothing left in a -wal beside it
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


def _sqlite_copy(template: Path, tmp_path: Path) -> str:
    """A migrated SQLite database of this test's own (tmp_path/fundguard.db). When another fixture of the same test
    made it already (sqlite_url beside db_url), that one is kept and migrated, never overwritten while open."""
    from bot.store.db import upgrade

    path = tmp_path / "fundguard.db"
    if path.exists():
        upgrade(f"sqlite:///{path}")
    else:
        shutil.copyfile(template, path)
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each storage and conversation test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return _sqlite_copy(request.getfixturevalue("migrated_sqlite"), tmp_path)
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def postgres_url(postgres_database: str) -> str:
    """The session's PostgreSQL database, emptied for this test."""
    _truncate_all(postgres_database)
    return postgres_database


@pytest.fixture
def sqlite_url(migrated_sqlite: Path, tmp_path: Path) -> str:
    return _sqlite_copy(migrated_sqlite, tmp_path)


# --- the app ---------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def nlu_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run's model cache holding the trained embedded model: trained once per run, by the first xdist worker
    that needs it, while the others wait and then load it."""
    from nlu.embedded import EmbeddedNLU

    cache = run_temp(tmp_path_factory) / "nlu-cache"
    with run_lock(tmp_path_factory, "nlu-cache"):
        EmbeddedNLU.load_or_train(REPO / "nlu" / "rasa" / "data", cache)
    return cache


@pytest.fixture(scope="session")
def embedded_nlu(nlu_cache: Path):  # type: ignore[no-untyped-def]
    from nlu.embedded import EmbeddedNLU

    return EmbeddedNLU.load_or_train(REPO / "nlu" / "rasa" / "data", nlu_cache)


@pytest.fixture(scope="session")
def seed_nlu(nlu_cache: Path) -> Callable[[Path], Path]:
    """Puts the trained model into a data folder's cache, so a server or command started there loads it
    instead of training its own; returns the folder."""
    def seed(data: Path) -> Path:
        shutil.copytree(nlu_cache, data / "cache", dirs_exist_ok=True)
        return data

    return seed


@pytest.fixture(scope="session")
def nlu_data_dir_path(tmp_path_factory: pytest.TempPathFactory, seed_nlu: Callable[[Path], Path]) -> Path:
    """A data folder whose model cache already holds the trained embedded model."""
    return seed_nlu(tmp_path_factory.mktemp("nlu-data"))


def real_content(tmp_path: Path) -> Path:
    """A copy of content/ marked as a real deployment's (`sample: false`): production refuses the sample."""
    import shutil

    content = tmp_path / "real-content"
    if not content.exists():
        shutil.copytree(REPO / "content", content)
        offices = content / "offices.yaml"
        offices.write_text(offices.read_text(encoding="utf-8").replace("sample: true", "sample: false"),
                           encoding="utf-8")
    return content


def make_settings(tmp_path: Path, db_url: str, **overrides):  # type: ignore[no-untyped-def]
    from bot.settings import Settings

    values = {"environment": "test", "data_dir": tmp_path / "data", "database_url": db_url,
              "secret_key": "test-secret-" + "x" * 40, "kdf_strength": "min", **overrides}
    return Settings(**values)


@pytest.fixture
def make_services(tmp_path: Path, embedded_nlu):  # type: ignore[no-untyped-def]
    from bot.bootstrap import bootstrap

    def factory(db_url: str, **overrides):  # type: ignore[no-untyped-def]
        return bootstrap(make_settings(tmp_path, db_url, **overrides), embedded=embedded_nlu)

    return factory


@pytest.fixture
def services(make_services, db_url):  # type: ignore[no-untyped-def]
    svc = make_services(db_url)
    yield svc
    svc.db.dispose()


@pytest.fixture
def client(services):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from webhook.app import create_app

    with TestClient(create_app(services=services), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def sqlite_client(make_services, sqlite_url):  # type: ignore[no-untyped-def]
    """The app on SQLite only, for tests that are not about storage."""
    from fastapi.testclient import TestClient

    from webhook.app import create_app

    svc = make_services(sqlite_url)
    with TestClient(create_app(services=svc), raise_server_exceptions=False) as c:
        yield c
    svc.db.dispose()


@pytest.fixture(scope="module")
def fake():  # type: ignore[no-untyped-def]
    """The fake Telegram Bot API on localhost (tests/fakes/telegram_api.py), one per test module."""
    from tests.fakes.telegram_api import FakeTelegram

    with FakeTelegram() as tg:
        yield tg


@pytest.fixture
def tg(fake):  # type: ignore[no-untyped-def]
    """The fake Bot API with no calls recorded yet."""
    fake.reset()
    return fake
