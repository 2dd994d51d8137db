"""What makes the suite quick: parsed YAML remembered, and what xdist workers of one run share."""

from __future__ import annotations

import copy
import fcntl
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

_real_safe_load = yaml.safe_load
_parsed: dict[str, object] = {}


def _remembered_safe_load(stream):  # type: ignore[no-untyped-def]
    if hasattr(stream, "read"):  # an open file: what it reads is remembered as a text would be
        stream = stream.read()
    if not isinstance(stream, str):
        return _real_safe_load(stream)
    if stream not in _parsed:
        _parsed[stream] = _real_safe_load(stream)
    return copy.deepcopy(_parsed[stream])


def remember_parsed_yaml() -> None:
    """yaml.safe_load of a text (or of an open file's text) gives a deep copy of that text's first parse (errors
    are never remembered).

    Every app test's bootstrap parses the same content/ files; with PyYAML's pure-Python loader that was about a
    third of each such test's setup. safe_load of a text is a pure function, so nothing a test sees changes."""
    yaml.safe_load = _remembered_safe_load


def run_temp(factory: pytest.TempPathFactory) -> Path:
    """The run's temporary folder, shared by all xdist workers (each worker's own is inside it)."""
    base = factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@contextmanager
def run_lock(factory: pytest.TempPathFactory, name: str) -> Iterator[None]:
    """Only one worker of this run at a time inside the block (the others wait)."""
    with (run_temp(factory) / f"{name}.lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def slow_modules_first(items: list[pytest.Item]) -> None:
    """Under xdist, the modules that take longest (the real Rasa server, real server processes) are handed out
    first, so that no worker begins one of them while the others have nothing left to do. Without xdist the
    collection order is unchanged. (`make test` passes --no-loadscope-reorder so that this order is kept.)"""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        items.sort(key=lambda item: 0 if item.get_closest_marker("rasa") else 1 if "/e2e/" in item.nodeid else 2)


_DROP = """import os
from sqlalchemy import create_engine, text
name = os.environ["FG_DROP_DATABASE"]
with create_engine(os.environ["FG_ADMIN_URL"], isolation_level="AUTOCOMMIT").connect() as conn:
    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
"""
_dropping: list[subprocess.Popen[bytes]] = []


def drop_database_later(admin_url: str, name: str) -> None:
    """DROP DATABASE waits for a checkpoint: seconds, half a minute on a busy machine, at the end of every xdist
    worker. A process of its own drops the session's database while the session ends."""
    env = {**os.environ, "FG_ADMIN_URL": admin_url, "FG_DROP_DATABASE": name}
    _dropping.append(subprocess.Popen([sys.executable, "-c", _DROP], env=env, start_new_session=True,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
