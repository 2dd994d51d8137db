"""The Rasa NLU server: what each pipeline component costs per parse, /model/parse throughput and latency, accuracy.

    .venv/bin/python bench/rasa.py --model before=A.tar.gz:/tmp/old --model after=var/rasa/models/B.tar.gz
    .venv/bin/python bench/rasa.py --model now=$(ls -t var/rasa/models/*.tar.gz | head -1) --clients 1,8

For every model, in one run: (1) bench/rasa_probe.py in Rasa's venv times each node of the prediction graph on
the held-out messages (in-process, no HTTP); (2) Rasa serves the model as `fundguard rasa serve` does, and
closed-loop clients (one keep-alive connection each) post the held-out messages to /model/parse for --seconds per
level of --clients: parses/s, p50, p99; (3) `fundguard nlu eval --backend both` against that server: held-out
accuracy of the embedded classifier and of Rasa, side by side. A model trained by an older release needs that
release's components: `:folder` names a folder holding its fundguard_rasa (`git show REV:nlu/rasa/fundguard_rasa/…`).
Writes docs/bench/rasa-run.json and docs/bench/rasa-run.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import REPO, Conn, free_port, percentile  # noqa: E402
from nlu.data import load_heldout  # noqa: E402
from nlu.embedded import prepare  # noqa: E402
from nlu.rasa_train import rasa_env, rasa_venv, serve_command  # noqa: E402

TOKEN = "bench-rasa-token"
HELDOUT = REPO / "nlu" / "heldout"


def env_for(work: Path, components: Path | None) -> dict[str, str]:
    """Rasa's environment; `components`: another folder holding fundguard_rasa (e.g. an older release's)."""
    return rasa_env(work) | ({"PYTHONPATH": str(components)} if components else {})


def component_costs(model: Path, components: Path | None, pairs: list[tuple[str, str]], rounds: int) -> dict:
    """bench/rasa_probe.py in Rasa's venv: per graph node ms, whole parse ms, in-process accuracy."""
    work = Path(tempfile.mkdtemp(prefix="fg-rasa-probe-"))
    done = subprocess.run([str(rasa_venv() / "bin" / "python"), str(REPO / "bench" / "rasa_probe.py"), str(model),
                           "--rounds", str(rounds)], input=json.dumps([[prepare(t), i] for t, i in pairs]),
                          capture_output=True, text=True, env=env_for(work, components), cwd=work, check=False)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


class RasaServer:
    """The command `fundguard rasa serve --model M` runs (rasa run --enable-api …), on a free loopback port."""

    def __init__(self, model: Path, components: Path | None, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = log.open("wb")
        self.proc = subprocess.Popen(serve_command(model, TOKEN, port=self.port), cwd=log.parent,
                                     env=env_for(log.parent, components), stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def wait_ready(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"rasa exited with {self.proc.returncode}")
            try:
                if httpx.get(f"{self.url}/status", params={"token": TOKEN}, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(1)
        raise RuntimeError("rasa did not come up")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._log.close()


async def _client(url: str, texts: list[str], stop: float, lat: list[float], errors: list[int], seed: int) -> None:
    conn, rng = Conn(url), random.Random(seed)
    while time.monotonic() < stop:
        body = json.dumps({"text": rng.choice(texts)}, ensure_ascii=False).encode()
        started = time.perf_counter()
        try:
            status, _ = await conn.post("/model/parse", body, params={"token": TOKEN})
        except OSError:
            status = 0
        if time.monotonic() < stop:
            (lat.append(time.perf_counter() - started) if status == 200 else errors.append(status))
    conn.close()


async def load(url: str, texts: list[str], clients: int, seconds: float, warmup: float) -> dict:
    """Closed loop: each client posts a held-out message, waits for the parse, posts the next."""
    await asyncio.gather(*(_client(url, texts, time.monotonic() + warmup, [], [], i) for i in range(clients)))
    lat: list[float] = []
    errors: list[int] = []
    await asyncio.gather(*(_client(url, texts, time.monotonic() + seconds, lat, errors, 100 + i)
                           for i in range(clients)))
    return {"clients": clients, "parses": len(lat), "errors": len(errors), "per_second": round(len(lat) / seconds, 1),
            "p50_ms": round(percentile(lat, 50) * 1000, 1), "p99_ms": round(percentile(lat, 99) * 1000, 1)}


def nlu_eval(url: str) -> tuple[str, dict]:
    """`fundguard nlu eval --backend both` against the server: its side-by-side table and top-1 accuracies."""
    env = {**os.environ, "FUNDGUARD_RASA_URL": url, "FUNDGUARD_RASA_TOKEN": TOKEN, "FUNDGUARD_NLU_BACKEND": "embedded",
           "FUNDGUARD_DATA_DIR": tempfile.mkdtemp(prefix="fg-rasa-eval-")}
    done = subprocess.run([sys.executable, "-m", "bot.cli", "nlu", "eval", "--backend", "both"], cwd=REPO, env=env,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(done.stdout[-2000:] + done.stderr[-2000:])
    table = done.stdout[done.stdout.rindex("metric"):].rstrip()
    figures = {}
    for key, label in (("accuracy", "top-1 accuracy"), ("macro_f1", "macro F1")):
        embedded, rasa = re.search(rf"^{label}\s+(\S+)\s+(\S+)$", table, re.M).groups()  # type: ignore[union-attr]
        figures[f"embedded_{key}"], figures[f"rasa_{key}"] = float(embedded), float(rasa)
    return table, figures


def bench_model(spec: str, args: argparse.Namespace, pairs: list[tuple[str, str]]) -> dict:
    label, _, rest = spec.partition("=")
    path, _, folder = rest.partition(":")
    model, components = Path(path).resolve(), Path(folder).resolve() if folder else None
    print(f"== {label}: {model.name} (components: {components or 'nlu/rasa'})", flush=True)
    costs = component_costs(model, components, pairs, args.rounds)
    print(json.dumps(costs), flush=True)
    work = Path(tempfile.mkdtemp(prefix="fg-rasa-bench-"))
    server = RasaServer(model, components, work / "rasa.log")
    try:
        server.wait_ready()
        texts = [prepare(t) for t, _ in pairs]  # what the app's client sends
        levels = [asyncio.run(load(server.url, texts, c, args.seconds, args.warmup))
                  for c in (int(x) for x in args.clients.split(","))]
        for level in levels:
            print(json.dumps(level), flush=True)
        table, accuracy = nlu_eval(server.url)
        print(table, flush=True)
    finally:
        server.stop()
    return {"label": label, "model": model.name, "costs": costs, "load": levels, "eval": accuracy,
            "eval_table": table}


def _steps(row: dict) -> dict[str, tuple[str, dict]]:
    """Graph nodes by pipeline position (run_X3 → "3"; unnumbered nodes by name): (component, figures)."""
    out = {}
    for name, node in row["costs"]["nodes"].items():
        digits = name[len(name.rstrip("0123456789")):]
        out[digits or node["component"]] = (node["component"], node)
    return out


def markdown(rows: list[dict]) -> str:
    labels = [r["label"] for r in rows]
    steps = [_steps(r) for r in rows]
    keys = list(dict.fromkeys(k for s in steps for k in s))
    lines = ["### Per pipeline step, in-process (Rasa's venv, Agent.parse_message): mean / p50 ms per parse", "",
             "| step | " + " | ".join(labels) + " |", "|---|" + "---:|" * len(labels)]
    for key in keys:
        cells = [f"{s[key][0]} {s[key][1]['mean_ms']:.3f} / {s[key][1]['p50_ms']:.3f}" if key in s else "—"
                 for s in steps]
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    lines.append("| **whole parse, mean / p50 / p99** | " + " | ".join(
        f"{r['costs']['parse_mean_ms']:.2f} / {r['costs']['parse_p50_ms']:.2f} / {r['costs']['parse_p99_ms']:.2f}"
        for r in rows) + " |")
    lines += ["", "### POST /model/parse over HTTP (closed-loop clients, held-out messages)", "",
              "| model | clients | parses/s | p50 ms | p99 ms | errors |", "|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['label']} | {x['clients']} | {x['per_second']} | {x['p50_ms']} | {x['p99_ms']} | {x['errors']} |"
              for r in rows for x in r["load"]]
    lines += ["", "### Held-out accuracy (`fundguard nlu eval --backend both`, 600 examples)", "",
              "| model | embedded top-1 | rasa top-1 | embedded macro F1 | rasa macro F1 | rasa in-process top-1 |",
              "|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        e = r["eval"]
        lines.append(f"| {r['label']} | {e['embedded_accuracy']:.4f} | {e['rasa_accuracy']:.4f} | "
                     f"{e['embedded_macro_f1']:.4f} | {e['rasa_macro_f1']:.4f} | {r['costs']['accuracy']:.4f} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", action="append", required=True,
                    help="label=path of a trained model, optionally :folder holding its fundguard_rasa (repeatable)")
    ap.add_argument("--clients", default="1,8,32")
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--warmup", type=float, default=2)
    ap.add_argument("--rounds", type=int, default=1, help="passes over the held-out set when timing components")
    ap.add_argument("--out", default="rasa-run", help="docs/bench/<out>.json and .md")
    args = ap.parse_args()
    pairs = load_heldout(HELDOUT)
    rows = [bench_model(spec, args, pairs) for spec in args.model]
    out = REPO / "docs" / "bench"
    (out / f"{args.out}.json").write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    text = markdown(rows)
    (out / f"{args.out}.md").write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
