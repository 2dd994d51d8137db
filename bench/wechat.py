"""Load on POST /wechat in safe (AES) mode: closed-loop virtual users, the passive-reply window, peak memory.

    .venv/bin/python bench/wechat.py                          # embedded default (SQLite), 10/50/200 users
    .venv/bin/python bench/wechat.py --scenario tip --users 10,50
    .venv/bin/python bench/wechat.py --budget 0.05 --users 5  # force the `success` + customer-service path

The twin of bench/chat.py through the official account's callback. Each virtual user is one openid; each
message is a fresh callback signed and encrypted as WeChat's servers do it (tests/fakes/wechat_api), with
its own MsgId; each passive reply is decrypted and checked (text, from the account, to that openid).
An answer not ready within the app's budget (FUNDGUARD_WECHAT_REPLY_BUDGET, 4 s) is replied `success` and
sent later as a customer-service message, here to the fake WeChat API on localhost: those, and replies
that took 5 s or more (WeChat gives up then), are outside the passive window. WeChat's retries are not
simulated. Writes docs/bench/wechat-<label>.json, a Markdown table and SVG plots.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import json
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

import xmltodict

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench._common import Conn, Server, add_server_args, percentile, server_env, write_report  # noqa: E402
from bench.chat import conversation, plain_questions, risk_texts  # noqa: E402
from bot.channels.wechat.gateway import SORRY  # noqa: E402
from tests.fakes.wechat_api import FakeWeChatAPI, WeChatPusher  # noqa: E402

TOKEN = "fgBenchToken2024"
APP_ID = "wxfakeappid00001"
SECRET = "fake-app-secret"
AES_KEY = base64.b64encode(bytes(range(32))).decode().rstrip("=")
WINDOW = 5.0  # seconds WeChat waits for a passive reply


def check(wx: WeChatPusher, user: str, status: int, body: bytes) -> str:
    """'passive' (a valid encrypted text reply), 'success' (the answer follows later) or 'error' (the app's
    own apology for a failed message counts as an error)."""
    if status != 200:
        return "error"
    text = body.decode("utf-8", "replace")
    if text == "success":
        return "success"
    try:
        doc = xmltodict.parse(text)["xml"]
        inner = xmltodict.parse(wx.crypto.decrypt_message(  # type: ignore[union-attr]
            text, doc["MsgSignature"], doc["TimeStamp"], doc["Nonce"]))["xml"]
    except Exception:
        return "error"
    ok = (inner.get("MsgType") == "text" and inner.get("FromUserName") == wx.account
          and inner.get("ToUserName") == user and bool((inner.get("Content") or "").strip())
          and SORRY not in inner["Content"])
    return "passive" if ok else "error"


async def user_loop(client: Conn, wx: WeChatPusher, user: str, scenario: str, stop: float,
                    stats: dict, rng: random.Random, questions: list[str], pitches: list[str]) -> None:
    while time.monotonic() < stop:
        for text in conversation(scenario, rng, questions, pitches):
            query, body = wx.request(wx.text(user, text))  # a fresh MsgId, nonce and signature
            query["openid"] = user
            t0 = time.perf_counter()
            try:
                status, reply = await client.post("/wechat", body, "text/xml", params=query)
                outcome = check(wx, user, status, reply)
            except OSError:
                outcome = "error"
            elapsed = time.perf_counter() - t0
            if time.monotonic() < stop:
                stats["lat"].append(elapsed)
                stats[outcome] += 1
                stats["in_window"] += outcome == "passive" and elapsed < WINDOW


async def run_level(url: str, wx: WeChatPusher, users: int, seconds: float, scenario: str, warmup: float) -> dict:
    questions, pitches = plain_questions(), risk_texts()
    tag = uuid.uuid4().hex[:8]  # fresh openids at every level

    def new_stats() -> dict:
        return {"lat": [], "passive": 0, "success": 0, "error": 0, "in_window": 0}

    conns = [Conn(url) for _ in range(users)]
    if warmup:
        await asyncio.gather(*(user_loop(conns[i], wx, f"oWarm{tag}_{i:05d}", scenario, time.monotonic() + warmup,
                                         new_stats(), random.Random(i), questions, pitches)
                               for i in range(min(users, 10))))
    stats = new_stats()
    start = time.monotonic()
    await asyncio.gather(*(user_loop(conns[i], wx, f"oBench{tag}_{i:05d}", scenario, start + seconds, stats,
                                     random.Random(1000 + i), questions, pitches) for i in range(users)))
    wall = time.monotonic() - start  # includes the flows still running at the stop, whose messages are not counted
    for conn in conns:
        conn.close()
    lat, sent = stats["lat"], len(stats["lat"])
    answered = stats["passive"] + stats["success"]
    return {"users": users, "scenario": scenario, "seconds": round(wall, 1), "sent": sent, "answered": answered,
            "passive": stats["passive"], "success": stats["success"], "errors": stats["error"],
            "per_second": round(answered / seconds, 1), "p50_ms": round(percentile(lat, 50) * 1000, 1),
            "p99_ms": round(percentile(lat, 99) * 1000, 1),
            "in_window_pct": round(100 * stats["in_window"] / sent, 1) if sent else float("nan")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_server_args(ap)
    ap.add_argument("--budget", type=float, default=None, help="FUNDGUARD_WECHAT_REPLY_BUDGET (default: the app's)")
    args = ap.parse_args()

    data = Path(tempfile.mkdtemp(prefix="fg-bench-wx-"))
    env, label = server_env(args, data)
    env.update(FUNDGUARD_WECHAT_TOKEN=TOKEN, FUNDGUARD_WECHAT_APP_ID=APP_ID, FUNDGUARD_WECHAT_APP_SECRET=SECRET,
               FUNDGUARD_WECHAT_AES_KEY=AES_KEY)
    if args.budget is not None:
        env["FUNDGUARD_WECHAT_REPLY_BUDGET"] = str(args.budget)
    wx = WeChatPusher(None, token=TOKEN, app_id=APP_ID, aes_key=AES_KEY, mode="safe")
    rows = []
    with FakeWeChatAPI(APP_ID, SECRET) as api:  # access token and customer-service messages stay on localhost
        server = Server({**env, "FUNDGUARD_WECHAT_API_BASE": api.base_url}, workers=args.workers,
                        log=data / "server.log")
        try:
            server.wait_ready()
            for scenario, users in itertools.product(args.scenario.split(","), [int(u) for u in args.users.split(",")]):
                before = len(api.sent_texts())
                row = asyncio.run(run_level(server.url, wx, users, args.seconds, scenario, args.warmup))
                row["cs_sent"] = len(api.sent_texts()) - before  # customer-service pages, warm-up included
                row["peak_rss_mb"] = round(server.peak_rss / 2**20)
                rows.append(row)
                print(json.dumps(row, ensure_ascii=False), flush=True)
        finally:
            server.stop()
    label += f"-{args.workers}w"
    write_report(f"wechat-{label}", f"/wechat (safe mode), {label}, {args.workers} worker(s)", rows,
                 [("scenario", "scenario"), ("users", "users"), ("answered/s", "per_second"), ("p50 ms", "p50_ms"),
                  ("p99 ms", "p99_ms"), ("within 5 s %", "in_window_pct"), ("`success`", "success"),
                  ("errors", "errors"), ("server peak RSS MB", "peak_rss_mb")],
                 [("per_second", "answered messages / s"), ("p99_ms", "p99 latency, ms"),
                  ("in_window_pct", "passive replies within 5 s, %")])


if __name__ == "__main__":
    main()
