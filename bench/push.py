"""Campaign push benchmark: N subscribers, one campaign, real `fundguard worker` processes on Redis and
PostgreSQL, against the fake Telegram Bot API enforcing 30 messages a second (429 above it).

    .venv/bin/python bench/push.py --subscribers 10000 --workers 1,2
    nohup .venv/bin/python bench/push.py --subscribers 100000 --workers 1,2 > bench/results/push-100k.log 2>&1 &

Reports, per run: achieved rate (overall, and the slowest full minute), 429s received, duplicates and
losses counted from what the fake Bot API actually received (per chat id), and the campaign's own stats.
Bars: at least 28 messages a second sustained, zero duplicates, zero losses.
Writes bench/results/push-<subscribers>-<workers>w.json.

WeChat: `--wechat-tags N` instead times tagging N WeChat subscribers at the tag API's batch limit (50
openids a call, FUNDGUARD_CAMPAIGN_WECHAT_TAG_RATE calls a second) against the fake WeChat API, then
one 群发 per group tag (bench/push_wechat.py); writes bench/results/push-wechat-tags-<N>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import create_engine, insert, text  # noqa: E402

from tests.fakes.telegram_api import FakeTelegram  # noqa: E402

TOKEN = "123456:BENCH-token"
SECRET = "bench-secret-" + "b" * 40
RESULTS = REPO / "bench" / "results"


class CompactLog(list):  # type: ignore[type-arg]
    """Keeps (chat_id, status, time) of each sendMessage instead of whole calls (100k calls stay small)."""


    def append(self, call: Any) -> None:  # type: ignore[override]
        if call.method == "sendMessage":
            super().append((str(call.params.get("chat_id")), call.status, call.at))


def fresh_database(base: str) -> str:
    from sqlalchemy.engine import make_url

    from bot.store.db import upgrade

    name = f"fg_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    return url


def drop_database(base: str, url: str) -> None:
    from sqlalchemy.engine import make_url

    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def add_subscribers(services: Any, n: int) -> list[str]:
    """N Telegram subscribers, chat ids sealed and keys hashed as the subscribe flow does it."""
    from bot.store.models import Subscriber, utcnow

    audiences = ("elderly", "student", "finance_staff", "civil_servant", "public")
    counties = [o.code for o in services.offices.counties] + [None]
    users = [str(7_000_000_000 + i) for i in range(n)]
    now = utcnow()
    with services.db.begin() as conn:
        for start in range(0, n, 5000):
            rows = [{"key": services.hasher.digest("chat", f"telegram:{u}"), "channel": "telegram",
                     "sealed_chat_id": services.drafts.encrypt_json(u), "audience": audiences[i % 5],
                     "county": counties[i % len(counties)], "opted_in": True, "reachable": True,
                     "last_interaction": now, "created_at": now, "updated_at": now}
                    for i, u in enumerate(users[start:start + 5000], start)]
            conn.execute(insert(Subscriber), rows)
    return users


def worker_env(url: str, redis_url: str, prefix: str, api_base: str, threads: int, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FUNDGUARD_")}
    env.update({"PYTHONPATH": str(REPO), "FUNDGUARD_ENVIRONMENT": "test", "FUNDGUARD_DATABASE_URL": url,
                "FUNDGUARD_SECRET_KEY": SECRET, "FUNDGUARD_KDF_STRENGTH": "min", "FUNDGUARD_DATA_DIR": str(data_dir),
                "FUNDGUARD_REDIS_URL": redis_url, "FUNDGUARD_TELEGRAM_TOKEN": TOKEN,
                "FUNDGUARD_TELEGRAM_API_BASE": api_base, "FUNDGUARD_LOG_LEVEL": "WARNING",
                "FUNDGUARD_CAMPAIGN_REDIS_PREFIX": prefix, "FUNDGUARD_CAMPAIGN_QUIET_HOURS": "",
                "FUNDGUARD_CAMPAIGN_WORKER_THREADS": str(threads)})
    return env


def slowest_window(times: list[float], window: float) -> float | None:
    """The lowest rate over any full `window` seconds between the first and the last send."""
    if not times or times[-1] - times[0] < window:
        return None
    worst, j, t0 = float("inf"), 0, times[0]
    for i, t in enumerate(times):
        if t - t0 < window:
            continue
        while times[j] < t - window:
            j += 1
        worst = min(worst, (i - j) / window)
    return round(worst, 2)


def run(n: int, workers: int, args: argparse.Namespace) -> dict[str, Any]:
    from bot.bootstrap import bootstrap
    from bot.bootstrap.campaigns import campaign_service
    from bot.campaigns.config import CampaignConfig
    from bot.campaigns.stats import campaign_stats
    from bot.settings import Settings

    data = Path(args.tmp) / f"run-{n}-{workers}-{uuid.uuid4().hex[:6]}"
    url = fresh_database(args.postgres)
    fake = FakeTelegram(token=TOKEN, rate=args.rate).start()
    fake.state.calls = CompactLog()
    prefix = f"fgbench-{uuid.uuid4().hex[:8]}"
    procs: list[subprocess.Popen] = []
    try:
        settings = Settings(environment="test", data_dir=data, database_url=url, secret_key=SECRET, kdf_strength="min")
        services = bootstrap(settings, with_engine=False)
        t = time.monotonic()
        users = add_subscribers(services, n)
        print(f"[{n} x {workers}w] {n} subscribers in {time.monotonic() - t:.1f}s", flush=True)
        env = worker_env(url, args.redis, prefix, fake.base_url, args.threads, data)
        for i in range(workers):
            log = open(data.parent / f"{data.name}-worker{i}.log", "wb")  # noqa: SIM115
            procs.append(subprocess.Popen([sys.executable, "-m", "bot.cli", "worker"], cwd=data.parent, env=env,
                                          stdout=log, stderr=subprocess.STDOUT))
        time.sleep(args.warmup)  # let every worker start before the campaign does
        cid = campaign_service(services, CampaignConfig(quiet_hours="")).create("public_three_signs",
                                                                                  audiences=[]).id
        started, last_report = time.time(), time.time()
        while True:
            time.sleep(5)
            with services.sessions() as s:
                status = s.execute(text("select status from campaigns where id=:i"), {"i": cid}).scalar()
            ok = sum(1 for _, st, _ in fake.state.calls if st == 200)
            if time.time() - last_report >= args.report_every or status == "done":
                el = time.time() - started
                print(f"[{n} x {workers}w] t={el:.0f}s sent={ok} 429s={fake.state.counts['_429']} status={status}",
                      flush=True)
                last_report = time.time()
            if status == "done" or any(p.poll() is not None for p in procs):
                break
        calls = list(fake.state.calls)
        sends = sorted(at for _, st, at in calls if st == 200)
        per_chat = Counter(chat for chat, st, _ in calls if st == 200)
        stats = campaign_stats(services.sessions, cid)
        span = sends[-1] - sends[0] if len(sends) > 1 else 0.0
        result = {
            "subscribers": n, "workers": workers, "threads_per_worker": args.threads, "fake_rate": args.rate,
            "sent": len(sends), "throttled_429": fake.state.counts["_429"],
            "duplicates": sum(c - 1 for c in per_chat.values() if c > 1),
            "losses": len(set(users) - set(per_chat)),
            "span_seconds": round(span, 1), "rate_overall": round((len(sends) - 1) / span, 2) if span else None,
            "rate_slowest_minute": slowest_window(sends, 60.0), "rate_slowest_10s": slowest_window(sends, 10.0),
            "campaign_stats": stats.total.__dict__ if stats else None,
            "worker_exit_codes": [p.poll() for p in procs],
        }
        services.db.dispose()
        return result
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
        fake.stop()
        import redis

        client = redis.Redis.from_url(args.redis)
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
        drop_database(args.postgres, url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=10000)
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts, one run each")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker")
    parser.add_argument("--rate", type=float, default=30.0, help="what the fake Bot API allows per second")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--warmup", type=float, default=15.0, help="seconds for the workers to start")
    parser.add_argument("--report-every", type=float, default=60.0)
    parser.add_argument("--tmp", default="/tmp/fundguard-bench-push")
    parser.add_argument("--wechat-tags", type=int, default=0, help="time tagging this many WeChat subscribers")
    parser.add_argument("--tag-rate", type=float, default=50.0, help="tag API calls a second (0: unpaced)")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.wechat_tags:
        from bench.push_wechat import run_tags

        result = run_tags(args.wechat_tags, args.tag_rate, args.postgres, args.tmp, SECRET)
        print(json.dumps(result, ensure_ascii=False), flush=True)
        out = RESULTS / f"push-wechat-tags-{args.wechat_tags}.json"
        out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        return
    for workers in (int(w) for w in args.workers.split(",")):
        result = run(args.subscribers, workers, args)
        print(json.dumps(result, ensure_ascii=False), flush=True)
        out = RESULTS / f"push-{args.subscribers}-{workers}w.json"
        out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        bars = (result["rate_slowest_minute"] or result["rate_overall"] or 0) >= 28 and not result["duplicates"] \
            and not result["losses"]
        print(f"[{args.subscribers} x {workers}w] bars {'MET' if bars else 'NOT MET'} -> {out}", flush=True)


if __name__ == "__main__":
    main()
