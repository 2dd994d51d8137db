"""Real server processes (`fundguard serve`) on free ports, and a real headless Chromium."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import IN_CI, free_port

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def server_env(data: Path, **extra: str) -> dict[str, str]:
    """The embedded default in `data`, with cheap key derivation for tests."""
    # Every browser test talks from 127.0.0.1: the per-address chat limit is off unless a test sets it
    # (tests/e2e/test_proxy.py does).
    env = {**os.environ, "FUNDGUARD_DATA_DIR": str(data), "FUNDGUARD_KDF_STRENGTH": "min",
           "FUNDGUARD_ENVIRONMENT": "development", "FUNDGUARD_CHAT_PER_ADDRESS_PER_MINUTE": "0", **extra}
    env.pop("FUNDGUARD_DATABASE_URL", None)
    return env


@contextmanager
def start_server(data: Path, env: dict[str, str], timeout: float = 120) -> Iterator[str]:
    """`fundguard serve` on a free port until the block ends; yields its base URL."""
    port = free_port()
    log = (data / "server.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
                            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"server exited: {(data / 'server.log').read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            pytest.fail(f"server did not start in {timeout:.0f} s")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where browser tests put their screenshots: docs/screenshots with FUNDGUARD_SCREENSHOTS=1 (to refresh the
    committed ones), else a temporary folder, so an ordinary test run leaves the work tree clean."""
    if os.environ.get("FUNDGUARD_SCREENSHOTS") == "1":
        folder = REPO / "docs" / "screenshots"
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory, seed_nlu) -> Iterator[str]:  # type: ignore[no-untyped-def]
    data = seed_nlu(tmp_path_factory.mktemp("live-data"))
    with start_server(data, server_env(data)) as base:
        yield base


# Module scope, not session: Playwright's sync API keeps an event loop running in this thread while it is
# open, and later tests that call asyncio.run() (the terminal chat, the NLU evaluation) would fail beside it.
@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    if not os.path.exists(CHROMIUM):
        if IN_CI:
            pytest.fail("chromium is missing under CI (make test installs it)")
        pytest.skip("chromium not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])
        yield b
        b.close()
