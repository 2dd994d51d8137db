"""Two independent servers on one host, started alike: where their threads run, and what they answer together.

    .venv/bin/python bench/crowd.py                  # FUNDGUARD_PIN_CPUS=auto (the default), 0 (both on CPU 0), ""

Two servers that do not know of each other (two containers, say) both pin to the first CPU under `auto`; the CPU
keeper (bot/cpus.py) moves one of them once it sees the other crowding it. With both fixed on CPU 0 nothing moves
(the case the keeper exists for); not pinned, the scheduler places every thread. Each server gets half the users.
Writes docs/bench/crowd-<label>.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import Server, server_env, write_report  # noqa: E402
from bench.chat import run_level  # noqa: E402


def pinned_to(server: Server) -> str:
    """The CPUs the server's threads are each kept to alone ("-" when none is pinned)."""
    cpus: set[int] = set()
    for entry in os.scandir(f"/proc/{server.proc.pid}/task"):
        try:
            mine = os.sched_getaffinity(int(entry.name))
        except OSError:
            continue
        if len(mine) == 1:
            cpus |= mine
    return ",".join(map(str, sorted(cpus))) or "-"


async def both(servers: list[Server], users: int, seconds: float, warmup: float) -> list[dict]:
    return list(await asyncio.gather(*(run_level(s.url, users, seconds, "plain", warmup, server=s) for s in servers)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--settings", default="auto,0,", help="FUNDGUARD_PIN_CPUS values, comma separated ('' last)")
    ap.add_argument("--users", type=int, default=25, help="users per server")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--warmup", type=float, default=6, help="the keeper looks every ~2 s: time to see and move")
    ap.add_argument("--label", default="two-servers")
    args = ap.parse_args()
    rows: list[dict] = []
    for setting in args.settings.split(","):
        servers = []
        for _ in range(2):
            data = Path(tempfile.mkdtemp(prefix="fg-crowd-"))
            env, _ = server_env(argparse.Namespace(postgres=None, rasa=None, label=None), data)
            servers.append(Server({**env, "FUNDGUARD_PIN_CPUS": setting}, log=data / "server.log"))
        try:
            for server in servers:
                server.wait_ready()
            start = [pinned_to(s) for s in servers]
            levels = asyncio.run(both(servers, args.users, args.seconds, args.warmup))
            for n, (server, level) in enumerate(zip(servers, levels, strict=True)):
                rows.append({"setting": repr(setting), "server": n + 1, "cpu_at_start": start[n],
                             "cpu_at_end": pinned_to(server), "per_second": level["per_second"],
                             "p99_ms": level["p99_ms"], "server_cpu_us": level["server_cpu_us"],
                             "both_per_second": round(sum(lv["per_second"] for lv in levels), 1)})
                print(rows[-1], flush=True)
        finally:
            for server in servers:
                server.stop()
    write_report(f"crowd-{args.label}", "two servers on one host, each pinned as the setting says", rows,
                 [("FUNDGUARD_PIN_CPUS", "setting"), ("server", "server"), ("pinned at start", "cpu_at_start"),
                  ("pinned at end", "cpu_at_end"), ("answered/s", "per_second"), ("p99 ms", "p99_ms"),
                  ("server CPU µs / answer", "server_cpu_us"), ("both, answered/s", "both_per_second")], [])


if __name__ == "__main__":
    main()
