"""Figures for the security section (issue 18), printed, not asserted. Run it against any checkout:

    python bench/security.py                         # this tree
    PYTHONPATH=/path/to/old/checkout python bench/security.py --code /path/to/old/checkout

1. Throttles under concurrency (in-process, SQLite): 40 concurrent wrong passwords for one account (evaluated =
   audit rows "login_failed"), one TOTP code in 8 concurrent sign-ins (sessions made), 20 concurrent wrong
   passphrases on one console session's key unlock (Argon2 runs).
2. /healthz p50 while 4 clients look up a valid receipt code in a loop (a real `fundguard serve`, Argon2id
   "interactive" receipt hashing as deployed), against /healthz with no load.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"


def burst(n: int, fn):  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(n)

    def go(i: int):  # type: ignore[no-untyped-def]
        barrier.wait()
        return fn(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(go, range(n)))


def throttles(tmp: Path) -> dict[str, int]:
    import pyotp
    from fastapi.testclient import TestClient
    from sqlalchemy import func, select

    from bot.bootstrap import bootstrap
    from bot.settings import Settings
    from bot.store.db import upgrade
    from bot.store.models import AuditEntry
    from bot.tips.keys import DEV_PASSPHRASE  # noqa: F401 - the office keys exist
    from webhook.app import create_app

    url = f"sqlite:///{tmp / 'throttle.db'}"
    upgrade(url)
    svc = bootstrap(Settings(environment="test", data_dir=tmp, database_url=url, secret_key=secrets.token_hex(24),
                             kdf_strength="min"))
    kit = svc.staff
    with svc.uow() as uow:
        for name in ("victim", "keyholder"):
            kit.directory.add(uow.session, username=name, display_name=name, office_code="shiquan", role="handler",
                              password=PASSWORD, totp=False)
        boss = kit.directory.add(uow.session, username="boss", display_name="B", office_code="shiquan",
                                 role="supervisor", password=PASSWORD, totp=True)
        uow.commit()

    def count(action: str, actor: str) -> int:
        with svc.uow() as uow:
            return uow.session.scalar(select(func.count()).select_from(AuditEntry).where(
                AuditEntry.action == action, AuditEntry.actor == actor))

    def wrong(i: int) -> None:
        with svc.uow() as uow:
            kit.auth.login(uow.session, "victim", f"guess {i}", "", f"198.51.100.{i}")
            uow.commit()

    burst(40, wrong)
    code = pyotp.TOTP(boss.totp_secret).now()

    def reuse(i: int) -> bool:
        with svc.uow() as uow:
            ok = kit.auth.login(uow.session, "boss", PASSWORD, code, f"203.0.113.{i}").ok
            uow.commit()
            return ok

    sessions = sum(burst(8, reuse))
    with TestClient(create_app(services=svc), base_url="https://testserver") as client:
        page = client.get("/console/login").text
        token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        client.post("/console/login", data={"csrf": token, "username": "keyholder", "password": PASSWORD, "code": ""})
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/console/key").text).group(1)
        burst(20, lambda i: client.post("/console/key", data={"csrf": token, "passphrase": f"no {i}"}).status_code)
    figures = {"wrong passwords evaluated (of 40, limit 5)": count("login_failed", "victim"),
               "sessions from one TOTP code (of 8)": sessions,
               "Argon2 unlock runs (of 20 wrong passphrases, limit 5)": count("key_unlock_failed", "keyholder")}
    svc.db.dispose()
    return figures


def healthz(code: Path, tmp: Path, seconds: float) -> dict[str, float]:
    port = 18000 + secrets.randbelow(2000)
    env = {**os.environ, "FUNDGUARD_DATA_DIR": str(tmp / "serve"), "FUNDGUARD_ENVIRONMENT": "development",
           "FUNDGUARD_KDF_STRENGTH": "interactive", "PYTHONPATH": str(code)}
    with Path(os.environ.get("BENCH_SERVE_LOG", os.devnull)).open("wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port",
                                 str(port)], cwd=code, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        with httpx.Client(base_url=base, timeout=30) as c:
            body = {}
            story = ("我要举报", "石泉县", "某某合作社", "保本保息每月返息三分拉人头",
                     "跳过", "跳过", "跳过", "匿名", "确认")
            for text in story:
                body = c.post("/api/chat", json={"user": "filer", "text": text}).json()
            receipt = body["receipt"]

            def sample(n: int) -> list[float]:
                out = []
                for _ in range(n):
                    t = time.perf_counter()
                    c.get("/healthz")
                    out.append((time.perf_counter() - t) * 1000)
                    time.sleep(0.02)
                return out

            idle = sample(100)
            stop, done = threading.Event(), [0]

            def look(i: int) -> None:
                with httpx.Client(base_url=base, timeout=30) as own:
                    while not stop.is_set():
                        own.post("/api/chat", json={"user": f"looker-{i}", "text": f"查询 {receipt}"})
                        done[0] += 1

            threads = [threading.Thread(target=look, args=(i,)) for i in range(4)]
            for t in threads:
                t.start()
            time.sleep(1)
            deadline, loaded = time.monotonic() + seconds, []
            while time.monotonic() < deadline:
                loaded += sample(10)
            stop.set()
            for t in threads:
                t.join()
        return {"healthz p50 idle (ms)": round(statistics.median(idle), 1),
                "healthz p50 under 4 receipt-lookup clients (ms)": round(statistics.median(loaded), 1),
                "receipt look-ups answered": done[0]}
    finally:
        proc.terminate()
        proc.wait(30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--code", type=Path, default=HERE, help="the checkout to measure (also put it on PYTHONPATH)")
    ap.add_argument("--seconds", type=float, default=15)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for name, value in {**throttles(Path(tmp)), **healthz(args.code.resolve(), Path(tmp), args.seconds)}.items():
            print(f"{name}: {value}")


if __name__ == "__main__":
    main()
