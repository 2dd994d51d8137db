"""Load on POST /api/chat: closed-loop virtual users, throughput, p50/p99 latency, the server's peak memory.

    .venv/bin/python bench/chat.py                         # embedded default (SQLite), 10/50/200 users
    .venv/bin/python bench/chat.py --postgres --rasa URL   # PostgreSQL + Rasa (start Rasa yourself)
    .venv/bin/python bench/chat.py --scenario tip --users 10,50

Each virtual user sends a message, waits for the answer, sends the next. Scenarios: plain (held-out
questions), risk (pasted pitches and legit notices), tip (whole tip flows, one new person each), mixed.
Writes docs/bench/chat-<label>.json, a Markdown table and an SVG plot.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import REPO, Server, add_server_args, percentile, server_env, write_report

# One whole tip: the description names a stake (投五万), so the flow skips the amount and asks the head count.
TIP_STEPS = ["我要举报", "石泉县", "某某养老服务中心", "他们说投五万每个月返两千，拉人还有提成", "二十多人",
             "跳过", "匿名", "确认"]


def plain_questions() -> list[str]:
    out: list[str] = []
    for path in sorted((REPO / "nlu" / "heldout").glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            out += [line[2:].strip() for line in block["examples"].splitlines() if line.startswith("- ")]
    return out


def risk_texts() -> list[str]:
    data = yaml.safe_load((REPO / "tests" / "data" / "riskcheck_cases.yaml").read_text(encoding="utf-8"))
    return [c["text"] for c in data["cases"]]


async def user_loop(client: httpx.AsyncClient, scenario: str, stop: float, stats: dict, rng: random.Random,
                    questions: list[str], pitches: list[str]) -> None:
    while time.monotonic() < stop:
        kind = scenario if scenario != "mixed" else rng.choice(["plain"] * 7 + ["risk"] * 2 + ["tip"])
        person = uuid.uuid4().hex
        if kind == "tip":
            texts = TIP_STEPS
        elif kind == "risk":
            texts = ["帮我看看这个靠谱吗：" + rng.choice(pitches)]
        else:
            texts = [rng.choice(questions)]
        for text in texts:
            t0 = time.perf_counter()
            try:
                r = await client.post("/api/chat", json={"user": person, "text": text})
                ok = r.status_code == 200
            except httpx.HTTPError:
                ok = False
            elapsed = time.perf_counter() - t0
            if time.monotonic() < stop:
                stats["lat"].append(elapsed)
                stats["ok" if ok else "err"] += 1


async def run_level(url: str, users: int, seconds: float, scenario: str, warmup: float) -> dict:
    questions, pitches = plain_questions(), risk_texts()
    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
        if warmup:
            await asyncio.gather(*(user_loop(client, scenario, time.monotonic() + warmup, {"lat": [], "ok": 0,
                                   "err": 0}, random.Random(i), questions, pitches) for i in range(min(users, 10))))
        stats: dict = {"lat": [], "ok": 0, "err": 0}
        start = time.monotonic()
        await asyncio.gather(*(user_loop(client, scenario, start + seconds, stats, random.Random(1000 + i),
                                         questions, pitches) for i in range(users)))
        wall = time.monotonic() - start
    lat = stats["lat"]
    return {"users": users, "scenario": scenario, "seconds": round(wall, 1), "answered": stats["ok"],
            "errors": stats["err"], "per_second": round(stats["ok"] / seconds, 1),  # answers sent in the window
            "p50_ms": round(percentile(lat, 50) * 1000, 1), "p99_ms": round(percentile(lat, 99) * 1000, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_server_args(ap)
    ap.add_argument("--url", default=None, help="benchmark an already running server instead of starting one")
    args = ap.parse_args()

    data = Path(tempfile.mkdtemp(prefix="fg-bench-"))
    env, label = server_env(args, data)
    server = None
    if args.url is None:
        server = Server(env, workers=args.workers, log=data / "server.log")
        server.wait_ready()
    url = args.url or server.url  # type: ignore[union-attr]
    rows = []
    try:
        for scenario, users in itertools.product(args.scenario.split(","), [int(u) for u in args.users.split(",")]):
            row = asyncio.run(run_level(url, users, args.seconds, scenario, args.warmup))
            row["peak_rss_mb"] = round(server.peak_rss / 2**20) if server else None
            rows.append(row)
            print(json.dumps(row, ensure_ascii=False), flush=True)
    finally:
        if server:
            server.stop()
    write_report(f"chat-{label}", f"/api/chat, {label}, {args.workers} worker(s)", rows,
                 [("scenario", "scenario"), ("users", "users"), ("answered/s", "per_second"), ("p50 ms", "p50_ms"),
                  ("p99 ms", "p99_ms"), ("errors", "errors"), ("server peak RSS MB", "peak_rss_mb")],
                 [("per_second", "answered messages / s"), ("p99_ms", "p99 latency, ms")])


if __name__ == "__main__":
    main()
