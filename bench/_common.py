"""Shared bits of the benchmarks: start a server, sample its memory, summarise latencies, draw SVG."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import httpx

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`fundguard serve` in a subprocess, with its memory sampled (sum of RSS over the process tree)."""

    def __init__(self, env: dict[str, str], workers: int = 1, log: Path | None = None,
                 command: list[str] | None = None) -> None:
        """`command`: another server command (`{port}` in it is replaced by the port)."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = (log or Path(os.devnull)).open("wb")
        cmd = [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", "{port}",
               "--workers", str(workers)]
        cmd = [part.replace("{port}", str(self.port)) for part in command or cmd]
        self.proc = subprocess.Popen(cmd, cwd=REPO, env={**os.environ, **env}, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        self.peak_rss = 0
        self._stop = threading.Event()

    def wait_ready(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited; see its log")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    threading.Thread(target=self._sample, daemon=True).start()
                    return
            except httpx.HTTPError:
                time.sleep(0.3)
        raise RuntimeError("server did not start")

    def _tree(self) -> list[int]:
        pids, frontier = [self.proc.pid], [self.proc.pid]
        while frontier:
            parent = frontier.pop()
            try:
                children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
            except OSError:
                children = []
            for c in children:
                pids.append(int(c))
                frontier.append(int(c))
        return pids

    def rss(self) -> int:
        total = 0
        for pid in self._tree():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
            except OSError:
                pass
        return total

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server's processes have used so far, every thread of each."""
        ticks = 0
        for pid in self._tree():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
                ticks += int(fields[11]) + int(fields[12])
            except (OSError, IndexError, ValueError):
                pass
        return ticks / os.sysconf("SC_CLK_TCK")

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak_rss = max(self.peak_rss, self.rss())
            time.sleep(0.1)

    def stop(self) -> None:
        self._stop.set()
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def svg_bars(title: str, groups: list[str], series: dict[str, list[float]], unit: str, path: Path) -> None:
    """A grouped bar chart as a standalone SVG (no plotting library, no internet)."""
    width, height, left, bottom, top = 720, 360, 60, 50, 40
    colours = ["#2f6fb0", "#e07b39", "#3a9a5b", "#b03a48", "#7a5cb0"]
    peak = max((v for vals in series.values() for v in vals if v == v), default=1) or 1
    plot_w, plot_h = width - left - 20, height - top - bottom
    gw = plot_w / max(1, len(groups))
    bw = gw * 0.8 / max(1, len(series))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
             f'font-size="12"><rect width="100%" height="100%" fill="white"/>',
             f'<text x="{width / 2}" y="22" text-anchor="middle" font-size="15">{title}</text>']
    for i in range(5):
        y = top + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{left}" x2="{width - 20}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{peak * i / 4:.0f}</text>')
    for gi, g in enumerate(groups):
        x0 = left + gi * gw + gw * 0.1
        for si, (name, vals) in enumerate(series.items()):
            v = vals[gi] if vals[gi] == vals[gi] else 0
            h = plot_h * v / peak
            parts.append(f'<rect x="{x0 + si * bw:.1f}" y="{top + plot_h - h:.1f}" width="{bw - 2:.1f}" '
                         f'height="{h:.1f}" fill="{colours[si % len(colours)]}"><title>{name}: {v:.1f} {unit}'
                         f'</title></rect>')
        parts.append(f'<text x="{left + gi * gw + gw / 2:.1f}" y="{height - bottom + 18}" '
                     f'text-anchor="middle">{g}</text>')
    for si, name in enumerate(series):
        parts.append(f'<rect x="{left + si * 150}" y="{height - 18}" width="10" height="10" '
                     f'fill="{colours[si % len(colours)]}"/><text x="{left + si * 150 + 14}" y="{height - 9}">'
                     f'{name}</text>')
    parts.append(f'<text x="14" y="{top + plot_h / 2}" transform="rotate(-90 14 {top + plot_h / 2})" '
                 f'text-anchor="middle">{unit}</text></svg>')
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts), encoding="utf-8")


def add_server_args(ap: argparse.ArgumentParser) -> None:
    """The options bench/chat.py and bench/wechat.py share."""
    ap.add_argument("--users", default="10,50,200")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--warmup", type=float, default=3)
    ap.add_argument("--scenario", default="plain,risk,tip,mixed")
    ap.add_argument("--workers", type=int, default=1, help="uvicorn workers (each ~350 MB)")
    ap.add_argument("--think", type=float, default=0.0,
                    help="mean pause of a user between messages, seconds (0: closed loop, the server saturated)")
    ap.add_argument("--postgres", nargs="?", const="postgresql+psycopg://postgres@127.0.0.1:5432/test", default=None,
                    help="run on PostgreSQL (default URL: the local test database)")
    ap.add_argument("--rasa", default=None, help="use the Rasa backend at this URL")
    ap.add_argument("--rasa-token", default="")
    ap.add_argument("--label", default=None)


def server_env(args: argparse.Namespace, data: Path) -> tuple[dict[str, str], str]:
    """The server's environment for these options, and the run's label (e.g. sqlite-embedded)."""
    env = {"FUNDGUARD_DATA_DIR": str(data), "FUNDGUARD_ENVIRONMENT": "development", "FUNDGUARD_LOG_LEVEL": "WARNING",
           "FUNDGUARD_TIPS_PER_DAY": "1000000", "FUNDGUARD_TIPS_PER_ADDRESS_PER_DAY": "1000000",
           "FUNDGUARD_CHAT_PER_USER_PER_MINUTE": "0", "FUNDGUARD_CHAT_PER_ADDRESS_PER_MINUTE": "0"}
    if args.postgres:
        env["FUNDGUARD_DATABASE_URL"] = args.postgres
    if args.rasa:
        env.update(FUNDGUARD_NLU_BACKEND="rasa", FUNDGUARD_RASA_URL=args.rasa, FUNDGUARD_RASA_TOKEN=args.rasa_token)
    label = args.label or ("postgres" if args.postgres else "sqlite") + ("-rasa" if args.rasa else "-embedded")
    return env, label


def write_report(name: str, title: str, rows: list[dict], columns: list[tuple[str, str]],
                 plots: list[tuple[str, str]]) -> None:
    """docs/bench/<name>.json, a Markdown table (columns: header, row key) and one SVG per plotted metric."""
    out = REPO / "docs" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    lines = [f"### {title}", "", "| " + " | ".join(h for h, _ in columns) + " |",
             "|---|" + "---:|" * (len(columns) - 1)]
    lines += ["| " + " | ".join(str(r.get(key)) for _, key in columns) + " |" for r in rows]
    (out / f"{name}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    if not plots:
        return
    scenarios = list(dict.fromkeys(r["scenario"] for r in rows))
    levels = list(dict.fromkeys(r["users"] for r in rows))
    for metric, unit in plots:
        series = {f"{u} users": [next((r[metric] for r in rows if r["scenario"] == s and r["users"] == u), float("nan"))
                                 for s in scenarios] for u in levels}
        svg_bars(f"{title}: {unit}", scenarios, series, unit, out / f"{name}-{metric}.svg")


class Conn:
    """One keep-alive HTTP/1.1 connection (one per virtual user), written on asyncio streams.

    httpx's pool spent a whole core at 50 users on this 2-core machine, and the server got the other:
    the benchmark measured its own client. This one costs a few microseconds a request.
    """

    def __init__(self, url: str, timeout: float = 30) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.timeout = timeout
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes, content_type: str = "application/json",
                   params: dict[str, str] | None = None) -> tuple[int, bytes]:
        """(status, body); OSError (or asyncio.TimeoutError) when the connection fails."""
        try:
            return await asyncio.wait_for(self._post(path, body, content_type, params), self.timeout)
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError, IndexError) as exc:
            self.close()
            raise OSError(str(exc) or type(exc).__name__) from None

    async def _post(self, path: str, body: bytes, content_type: str,
                    params: dict[str, str] | None) -> tuple[int, bytes]:
        target = path + ("?" + urlencode(params) if params else "")
        request = (f"POST {target} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Type: {content_type}"
                   f"\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
        for attempt in (1, 2):
            fresh = self._writer is None
            if fresh:
                self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
            assert self._reader is not None and self._writer is not None
            try:
                self._writer.write(request)
                await self._writer.drain()
                line = await self._reader.readline()
            except ConnectionError:
                line = b""
            if line:
                break
            self.close()  # the server closed an idle keep-alive connection: once more on a new one
            if fresh or attempt == 2:
                raise ConnectionError("the server closed the connection")
        assert self._reader is not None
        status = int(line.split(b" ", 2)[1])
        length, close = 0, False
        while (line := await self._reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "connection" and value.strip().lower() == "close":
                close = True
        data = await self._reader.readexactly(length)
        if close:
            self.close()
        return status, data

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None
