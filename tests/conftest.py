"""Shared fixtures: a network guard, databases (SQLite and PostgreSQL), the app wired for tests."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
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
    """A fresh PostgreSQL database for this test session, migrated to head, dropped at the end."""
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
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_all(url: str) -> None:
    from sqlalchemy import create_engine, text

    from bot.store.schema import metadata

    engine = create_engine(url)
    with engine.begin() as conn:
        names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each storage and conversation test runs on SQLite and on PostgreSQL."""
    from bot.store.db import upgrade

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'fundguard.db'}"
        upgrade(url)
        return url
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def postgres_url(postgres_database: str) -> str:
    """The session's PostgreSQL database, emptied for this test."""
    _truncate_all(postgres_database)
    return postgres_database


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    from bot.store.db import upgrade

    url = f"sqlite:///{tmp_path / 'fundguard.db'}"
    upgrade(url)
    return url


# --- the app ---------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def embedded_nlu(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from nlu.embedded import EmbeddedNLU

    return EmbeddedNLU.load_or_train(REPO / "nlu" / "rasa" / "data", nlu_data_dir(tmp_path_factory) / "cache")


@pytest.fixture(scope="session")
def nlu_data_dir_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder whose model cache already holds the trained embedded model."""
    return nlu_data_dir(tmp_path_factory)


def nlu_data_dir(factory: pytest.TempPathFactory) -> Path:
    path = factory.getbasetemp() / "nlu-data"
    path.mkdir(exist_ok=True)
    return path


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
