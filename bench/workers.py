"""Memory per worker: `fundguard serve --workers N` (load once, then fork) against spawned uvicorn workers.

    .venv/bin/python bench/workers.py                  # 1, 2 and 4 workers, 20 s of mixed traffic each
    .venv/bin/python bench/workers.py --workers 1,2 --seconds 5 --modes prefork

Each server first gets traffic (bench/chat.py's mixed scenario: questions, risk checks, whole tips, over 16
keep-alive connections, so that every worker answers), then the memory of its whole process tree is read from
/proc/<pid>/smaps_rollup: USS (private pages: what the process alone costs), PSS (each shared page split
between the processes that share it: the sum is the tree's real footprint) and RSS (shared pages counted once
per process). What a worker costs: its own USS (the pages only it holds; the kernel frees them when it
exits), and the growth of the tree's PSS and USS from 1 to N workers, ÷ (N − 1).

Modes: `prefork` — one process loads the model, jieba, the content and the lexicon, then forks the workers
(webhook/serve.py: what `fundguard serve --workers N` runs for N > 1; here for N = 1 too); `spawn` —
`uvicorn --workers N`, each worker a spawned process that loads everything itself (how `serve --workers N`
ran before); `prefork-nofreeze` — prefork with gc.freeze() made a no-op, to show what it saves.
Writes docs/bench/workers.json and docs/bench/workers.md.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import REPO, Server, server_env, write_report
from bench.chat import run_level

BAR_MB = 80
NOTE = f"""
USS: private pages, what a process alone costs; PSS: each shared page split between the processes that
share it (summed over a tree: its real footprint); RSS: shared pages counted again in every process. Tree:
the master (prefork) or uvicorn's supervisor (spawn) and the workers, read from /proc/<pid>/smaps_rollup after
the traffic. "USS of one worker": mean over the workers (spawn, 1 worker: the one process). Spawn is how
`serve --workers N` ran before, less its parent, which then loaded the model too (another ~300 MB). PSS also
splits library pages with unrelated processes on the machine: its growth is the noisier figure. A page that
only some processes of a tree copied after the fork stays shared by the others, so each one's USS falls a
little as workers are added and the tree's USS grows by less than a worker's. prefork-nofreeze: gc.freeze()
made a no-op. Bar: ≤ {BAR_MB} MB USS per extra worker, judged on the USS of one worker. Made by
`bench/workers.py` in one run (2 shared cores; the load generator on them too).
"""


def command(mode: str, workers: int) -> list[str]:
    if mode.startswith("prefork"):
        return [sys.executable, __file__, "--serve", str(workers), "--port", "{port}"] + (
            ["--no-freeze"] if mode == "prefork-nofreeze" else [])
    return [sys.executable, "-m", "uvicorn", "webhook.app:create_app", "--factory", "--host", "127.0.0.1",
            "--port", "{port}", "--workers", str(workers), "--no-access-log"]


def smaps(pid: int) -> dict[str, int]:
    """USS, PSS and RSS of one process, in kB (all 0 for a process that has gone)."""
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]
    except OSError:
        return {"uss": 0, "pss": 0, "rss": 0}
    rows = {name: int(value.split()[0]) for name, value in (line.split(":", 1) for line in lines)}
    return {"uss": rows["Private_Clean"] + rows["Private_Dirty"], "pss": rows["Pss"], "rss": rows["Rss"]}


def workers_of(root: int) -> list[int]:
    """The worker processes: the root's children, less multiprocessing's resource tracker."""
    kids = Path(f"/proc/{root}/task/{root}/children").read_text().split()
    return [int(k) for k in kids if b"resource_tracker" not in Path(f"/proc/{k}/cmdline").read_bytes()]


def measure(mode: str, workers: int, env: dict[str, str], data: Path, seconds: float) -> dict:
    """One server: traffic, then the memory of its process tree and of its workers, in MB."""
    server = Server(env, log=data / f"server-{mode}-{workers}.log", command=command(mode, workers))
    try:
        server.wait_ready()
        traffic = asyncio.run(run_level(server.url, 16, seconds, "mixed", 0))
        time.sleep(1)  # the last turns' background work settles
        tree = [smaps(pid) for pid in server._tree()]
        own = [smaps(pid) for pid in (workers_of(server.proc.pid) if workers > 1 or mode != "spawn"
                                      else [server.proc.pid])]
    finally:
        server.stop()
    mb = {key: round(sum(p[key] for p in tree) / 1024) for key in ("uss", "pss", "rss")}
    return {"mode": mode, "workers": workers, "processes": len(tree), "answered/s": traffic["per_second"],
            "errors": traffic["errors"], "uss_mb": mb["uss"], "pss_mb": mb["pss"], "rss_mb": mb["rss"],
            "worker_uss_mb": round(sum(p["uss"] for p in own) / len(own) / 1024)}


def per_extra_worker(rows: list[dict]) -> None:
    """The footprint each worker beyond the first adds: growth of the tree's PSS (and of its USS)."""
    for row in rows:
        one = next((r for r in rows if r["mode"] == row["mode"] and r["workers"] == 1), None)
        extra = row["workers"] - 1
        for key in ("pss", "uss"):
            row[f"extra_{key}_mb"] = (round((row[f"{key}_mb"] - one[f"{key}_mb"]) / extra)
                                      if one is not None and extra else "–")


def serve(workers: int, port: int, freeze: bool = True) -> None:
    """The prefork server for N workers (N = 1 too), as `fundguard serve --workers N` starts it for N > 1.

    `freeze=False`: gc.freeze() made a no-op, master and workers, to show what it saves.
    """
    import gc

    from bot import logs
    from bot.settings import Settings
    from bot.store.db import upgrade
    from webhook.serve import serve as prefork

    if not freeze:
        gc.freeze = lambda: None
    settings = Settings()
    logs.configure(settings.log_level)
    settings.ensure_dirs()
    upgrade(settings.database_url)
    prefork(settings, "127.0.0.1", port, workers, [])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--modes", default="prefork,prefork-nofreeze,spawn")
    ap.add_argument("--seconds", type=float, default=20, help="traffic before the memory is read")
    ap.add_argument("--serve", type=int, default=None, help=argparse.SUPPRESS)  # the prefork server itself
    ap.add_argument("--port", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--no-freeze", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve is not None:
        serve(args.serve, args.port, freeze=not args.no_freeze)
        return
    data = Path(tempfile.mkdtemp(prefix="fg-bench-"))
    env, _ = server_env(argparse.Namespace(postgres=None, rasa=None, label=None), data)  # SQLite, embedded NLU
    rows = []
    for mode in args.modes.split(","):  # prefork first: it migrates the database and caches the model
        for n in (int(w) for w in args.workers.split(",")):
            rows.append(measure(mode, n, env, data, args.seconds))
            print(rows[-1], flush=True)
    per_extra_worker(rows)
    write_report("workers", "Memory per worker after mixed traffic (MB)", rows,
                 [("mode", "mode"), ("workers", "workers"), ("processes", "processes"), ("tree USS", "uss_mb"),
                  ("tree PSS", "pss_mb"), ("tree RSS", "rss_mb"), ("USS of one worker", "worker_uss_mb"),
                  ("PSS added per extra worker", "extra_pss_mb"), ("USS added per extra worker", "extra_uss_mb"),
                  ("answered/s", "answered/s"), ("errors", "errors")], [])
    with (REPO / "docs" / "bench" / "workers.md").open("a", encoding="utf-8") as fh:
        fh.write(NOTE)


if __name__ == "__main__":
    main()
