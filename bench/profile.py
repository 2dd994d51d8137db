"""Where the time of one /api/chat turn goes: the ASGI app in-process under pyinstrument.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/profile.py --scenario plain --requests 2000

Runs the app exactly as `fundguard serve` builds it (embedded default, SQLite in a temp data folder)
behind httpx's ASGI transport, so uvicorn's HTTP parsing is left out; sends the scenario's messages
one after another and prints the profile's top frames. Writes docs/bench/profile-<scenario>.txt.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from pyinstrument import Profiler

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import REPO  # noqa: E402
from bench.chat import TIP_STEPS, plain_questions, risk_texts  # noqa: E402


def messages(scenario: str, n: int, rng: random.Random) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    questions, pitches = plain_questions(), risk_texts()
    while len(out) < n:
        person = uuid.uuid4().hex
        if scenario == "tip":
            out += [(person, t) for t in TIP_STEPS]
        elif scenario == "risk":
            out.append((person, "帮我看看这个靠谱吗：" + rng.choice(pitches)))
        else:
            out.append((person, rng.choice(questions)))
    return out[:n]


async def run(scenario: str, n: int) -> None:
    from bot.settings import Settings
    from bot.store.db import upgrade
    from webhook.app import create_app

    settings = Settings()
    settings.ensure_dirs()
    upgrade(settings.database_url)
    app = create_app(settings)
    batch = messages(scenario, n, random.Random(7))
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        for person, text in batch[:50]:  # warm caches and the model before measuring
            await client.post("/api/chat", json={"user": "warm" + person, "text": text})
        profiler = Profiler(interval=0.0005, async_mode="enabled")
        started = time.perf_counter()
        with profiler:
            for person, text in batch:
                r = await client.post("/api/chat", json={"user": person, "text": text})
                r.raise_for_status()
        took = time.perf_counter() - started
    print(f"{n} {scenario} turns in {took:.2f} s: {took / n * 1000:.2f} ms a turn, one at a time")
    text = profiler.output_text(unicode=True, color=False, show_all=False)
    out = REPO / "docs" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"profile-{scenario}.txt").write_text(text, encoding="utf-8")
    print(text[:6000])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenario", default="plain", choices=["plain", "risk", "tip"])
    ap.add_argument("--requests", type=int, default=2000)
    args = ap.parse_args()
    data = tempfile.mkdtemp(prefix="fg-profile-")
    os.environ.update(FUNDGUARD_DATA_DIR=data, FUNDGUARD_ENVIRONMENT="development", FUNDGUARD_LOG_LEVEL="WARNING",
                      FUNDGUARD_TIPS_PER_DAY="1000000", FUNDGUARD_TIPS_PER_ADDRESS_PER_DAY="1000000")
    asyncio.run(run(args.scenario, args.requests))


if __name__ == "__main__":
    main()
