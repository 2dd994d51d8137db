"""Load on POST /api/chat: closed-loop virtual users, throughput, p50/p99 latency, the server's peak memory.

    .venv/bin/python bench/chat.py                         # embedded default (SQLite), 10/50/200 users
    .venv/bin/python bench/chat.py --postgres --rasa URL   # PostgreSQL + Rasa (start Rasa yourself)
    .venv/bin/python bench/chat.py --scenario tip --users 10,50
    .venv/bin/python bench/chat.py --scenario plain --think 1   # people pause ~1 s between messages
    .venv/bin/python bench/chat.py --scenario plain --users 50 --floor   # and the floor, side by side
    .venv/bin/python bench/chat.py --scenario plain --users 50 --floor --rounds 3   # bot, floor, bot, floor, …
    .venv/bin/python bench/chat.py --scenario plain --users 50 --unique  # every question a new text: no cache hits

Each virtual user sends a message, waits for the answer, pauses (--think, exponential; 0 by default: the
server saturated, which gives its throughput but latencies of a queue: at N users p50 ≈ N / throughput)
and sends the next. One keep-alive connection per user. Scenarios: plain (held-out questions), risk
(pasted pitches and legit notices), tip (whole tip flows, one new person each), mixed.
Writes docs/bench/chat-<label>.json, a Markdown table and SVG plots. --floor also runs each level against the floor
(bench/floor_app.py: the same FastAPI + uvicorn stack answering a fixed reply of the bot's mean reply size) and
prints both and the ratio: what is left between them is what the bot costs per message. A shared machine drifts by
tens of percent over a minute (the floor alone measured 5,600-8,600/s in consecutive runs here): --rounds N alternates
the two N times, both servers up, and prints each round's ratio and their median.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import REPO, Conn, Server, add_server_args, percentile, server_env, write_report

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


UNIQUE = False  # --unique: every plain question a text not seen before


def conversation(scenario: str, rng: random.Random, questions: list[str], pitches: list[str]) -> list[str]:
    """The messages of one person's next conversation: a question, a risk check, or a whole tip."""
    kind = scenario if scenario != "mixed" else rng.choice(["plain"] * 7 + ["risk"] * 2 + ["tip"])
    if kind == "tip":
        return TIP_STEPS
    if kind == "risk":
        return ["帮我看看这个靠谱吗：" + rng.choice(pitches)]
    question = rng.choice(questions)
    if UNIQUE:  # two emoji the bot drops: the same question, a text never seen (no cache helps)
        question += chr(0x1F600 + rng.randrange(80)) + chr(0x1F300 + rng.randrange(700))
    return [question]


async def user_loop(client: Conn, scenario: str, stop: float, stats: dict, rng: random.Random,
                    questions: list[str], pitches: list[str], think: float = 0.0) -> None:
    if think:  # people do not all press send at the same instant
        await asyncio.sleep(rng.uniform(0, 2 * think))
    while time.monotonic() < stop:
        person = uuid.uuid4().hex
        for text in conversation(scenario, rng, questions, pitches):
            t0 = time.perf_counter()
            try:
                status, _ = await client.post("/api/chat", json.dumps({"user": person, "text": text}).encode())
                ok = status == 200
            except OSError:
                ok = False
            elapsed = time.perf_counter() - t0
            if time.monotonic() < stop:
                stats["lat"].append(elapsed)
                stats["ok" if ok else "err"] += 1
            if think:  # a person reads the answer and types the next message
                await asyncio.sleep(rng.expovariate(1 / think))


async def run_level(url: str, users: int, seconds: float, scenario: str, warmup: float, think: float = 0.0,
                    tippers: int = 0, server: Server | None = None) -> dict:
    """One level: `users` people on the scenario (measured) and `tippers` more filing whole tips beside them.

    With `server`, the CPU it used in the measured window per answer (µs, every thread and process of it), and the
    share of a core this client used (near 100 %: the client, not the server, set the pace)."""
    questions, pitches = plain_questions(), risk_texts()
    conns = [Conn(url) for _ in range(users + tippers)]
    if warmup:
        await asyncio.gather(*(user_loop(conns[i], scenario, time.monotonic() + warmup, {"lat": [], "ok": 0,
                               "err": 0}, random.Random(i), questions, pitches) for i in range(min(users, 10))))
    stats: dict = {"lat": [], "ok": 0, "err": 0}
    side: dict = {"lat": [], "ok": 0, "err": 0}  # the tippers' own figures, reported apart
    start, cpu0, mine0 = time.monotonic(), server.cpu_seconds() if server else 0.0, time.process_time()
    await asyncio.gather(*(user_loop(conns[i], scenario, start + seconds, stats, random.Random(1000 + i),
                                     questions, pitches, think) for i in range(users)),
                         *(user_loop(conns[users + i], "tip", start + seconds, side, random.Random(5000 + i),
                                     questions, pitches, think) for i in range(tippers)))
    wall = time.monotonic() - start
    cpu, mine = (server.cpu_seconds() - cpu0 if server else None), time.process_time() - mine0
    for conn in conns:
        conn.close()
    lat = stats["lat"]
    extra = {"tippers": tippers, "tip_msgs_per_second": round(side["ok"] / seconds, 1)} if tippers else {}
    return {**extra, "users": users, "scenario": scenario, "think_s": think, "seconds": round(wall, 1),
            "answered": stats["ok"],
            "errors": stats["err"], "per_second": round(stats["ok"] / seconds, 1),  # answers sent in the window
            "p50_ms": round(percentile(lat, 50) * 1000, 1), "p99_ms": round(percentile(lat, 99) * 1000, 1),
            "server_cpu_us": round(cpu / (stats["ok"] + side["ok"]) * 1e6) if cpu and stats["ok"] else None,
            "client_cpu_pct": round(mine / wall * 100)}


async def reply_size(url: str, questions: list[str], n: int = 40) -> int:
    """The mean size in bytes of the bot's replies to plain questions (the floor answers with as many)."""
    conn, sizes = Conn(url), []
    for i, text in enumerate(questions[:n]):
        status, body = await conn.post("/api/chat", json.dumps({"user": f"size{i}", "text": text}).encode())
        if status == 200:
            sizes.append(len(body))
    conn.close()
    return round(sum(sizes) / max(1, len(sizes)))


def start_floor(url: str, data: Path) -> tuple[Server, int]:
    """The floor app, answering with the bot's mean reply size."""
    size = asyncio.run(reply_size(url, plain_questions()))
    floor = Server({"FLOOR_REPLY_BYTES": str(size)}, log=data / "floor.log",
                   command=[sys.executable, "-m", "uvicorn", "bench.floor_app:create_app", "--factory", "--host",
                            "127.0.0.1", "--port", "{port}", "--no-access-log", "--no-server-header", "--log-level",
                            "warning"])
    floor.wait_ready()
    return floor, size


def floor_row(floor: Server, size: int, bot_row: dict, args: argparse.Namespace) -> dict:
    """One level against the floor, right after the bot's, with the bot's ratio to it (set on both rows)."""
    row = asyncio.run(run_level(floor.url, bot_row["users"], args.seconds, bot_row["scenario"], args.warmup,
                                args.think, server=floor))
    row = {**row, "scenario": f"floor ({size} B)", "peak_rss_mb": round(floor.peak_rss / 2**20)}
    ratio = bot_row["per_second"] / row["per_second"] if row["per_second"] else float("nan")
    row["bot_ratio"] = bot_row["ratio_to_floor"] = round(ratio, 3)
    print(json.dumps(row, ensure_ascii=False), flush=True)
    print(f"{bot_row['scenario']} {bot_row['users']} users: bot {bot_row['per_second']}/s, floor "
          f"{row['per_second']}/s, bot = {ratio:.0%} of the floor", flush=True)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_server_args(ap)
    ap.add_argument("--url", default=None, help="benchmark an already running server instead of starting one")
    ap.add_argument("--tippers", type=int, default=0,
                    help="this many more users file whole tips beside the measured ones (their figures apart)")
    ap.add_argument("--unique", action="store_true",
                    help="make every plain question a new text (two emoji the bot drops): no parse or check cache hits")
    ap.add_argument("--floor", action="store_true",
                    help="also run the floor app (a fixed reply on the same stack) and print the ratio")
    ap.add_argument("--rounds", type=int, default=1,
                    help="with --floor: alternate bot and floor this many times; each round's ratio and the median")
    args = ap.parse_args()
    global UNIQUE
    UNIQUE = args.unique

    data = Path(tempfile.mkdtemp(prefix="fg-bench-"))
    env, label = server_env(args, data)
    server = None
    if args.url is None:
        server = Server(env, workers=args.workers, log=data / "server.log")
        server.wait_ready()
    url = args.url or server.url  # type: ignore[union-attr]
    rows: list[dict] = []
    floor, size = start_floor(url, data) if args.floor else (None, 0)
    try:
        for scenario, users in itertools.product(args.scenario.split(","), [int(u) for u in args.users.split(",")]):
            ratios = []
            for n in range(args.rounds if floor else 1):
                row = asyncio.run(run_level(url, users, args.seconds, scenario, args.warmup, args.think,
                                            args.tippers, server=server))
                row["peak_rss_mb"] = round(server.peak_rss / 2**20) if server else None
                if args.rounds > 1:
                    row["round"] = n + 1
                rows.append(row)
                print(json.dumps(row, ensure_ascii=False), flush=True)
                if floor is not None:
                    rows.append({**floor_row(floor, size, row, args), **({"round": n + 1} if args.rounds > 1 else {})})
                    ratios.append(row["ratio_to_floor"])
            if len(ratios) > 1:
                print(f"{scenario} {users} users, {len(ratios)} rounds: bot / floor " +
                      ", ".join(f"{r:.0%}" for r in ratios) + f"; median {statistics.median(ratios):.0%}", flush=True)
    finally:
        if floor is not None:
            floor.stop()
        if server:
            server.stop()
    think = f", think {args.think:g} s" if args.think else ""
    label += f"-{args.workers}w" + (f"-think{args.think:g}" if args.think else "") + ("-floor" if args.floor else "")
    label += f"-tippers{args.tippers}" if args.tippers else ""
    label += "-unique" if args.unique else ""
    label += f"-rounds{args.rounds}" if args.floor and args.rounds > 1 else ""
    write_report(f"chat-{label}", f"/api/chat, {label}, {args.workers} worker(s){think}", rows,
                 ([("round", "round")] if args.floor and args.rounds > 1 else [])
                 + [("scenario", "scenario"), ("users", "users"), ("answered/s", "per_second"), ("p50 ms", "p50_ms"),
                  ("p99 ms", "p99_ms"), ("errors", "errors"), ("server CPU µs / answer", "server_cpu_us"),
                  ("client CPU %", "client_cpu_pct"), ("server peak RSS MB", "peak_rss_mb")]
                 + ([("bot / floor", "ratio_to_floor")] if args.floor else []),
                 [("per_second", "answered messages / s"), ("p99_ms", "p99 latency, ms")])


if __name__ == "__main__":
    main()
