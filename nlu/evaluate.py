"""Held-out evaluation: accuracy, per-topic precision/recall, macro F1, confusions, latency, threshold split.

`python -m nlu.evaluate [--part part1+part2 --part part3] [--threshold 0.32]` trains (or loads) the embedded
model from nlu/rasa/data and prints one report per group of held-out files.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from nlu.base import NLUParser
from nlu.data import read_nlu_files


@dataclass
class EvalResult:
    backend: str
    total: int
    correct: int
    per_intent: dict[str, tuple[float, float, int]]  # precision, recall, support
    confusions: Counter[tuple[str, str]] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    oos_precision: float = 0.0
    oos_recall: float = 0.0
    confidences: list[float] = field(default_factory=list)
    hits: list[bool] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    @property
    def macro_f1(self) -> float:
        f1s = [2 * p * r / (p + r) if p + r else 0.0 for p, r, _ in self.per_intent.values()]
        return sum(f1s) / len(f1s) if f1s else 0.0

    def share_below(self, threshold: float) -> float:
        """The share of examples whose top confidence is under the clarify threshold."""
        return sum(c < threshold for c in self.confidences) / len(self.confidences) if self.confidences else 0.0

    def accuracy_above(self, threshold: float) -> float:
        """Top-1 accuracy on the examples the engine would answer directly (confidence ≥ threshold)."""
        kept = [h for c, h in zip(self.confidences, self.hits, strict=True) if c >= threshold]
        return sum(kept) / len(kept) if kept else 0.0

    def accuracy_below(self, threshold: float) -> float:
        kept = [h for c, h in zip(self.confidences, self.hits, strict=True) if c < threshold]
        return sum(kept) / len(kept) if kept else 0.0

    def latency(self, q: float) -> float:
        xs = sorted(self.latencies_ms)
        return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else 0.0


def evaluate(parser: NLUParser, pairs: list[tuple[str, str]]) -> EvalResult:
    predicted: list[str] = []
    latencies: list[float] = []
    confidences: list[float] = []
    for text, _ in pairs:
        started = time.perf_counter()
        parse = parser.parse(text)
        latencies.append((time.perf_counter() - started) * 1000)
        predicted.append(parse.intent)
        confidences.append(parse.confidence)
    gold = [i for _, i in pairs]
    intents = sorted(set(gold) | set(predicted))
    per: dict[str, tuple[float, float, int]] = {}
    for intent in intents:
        tp = sum(1 for g, p in zip(gold, predicted, strict=True) if g == p == intent)
        npred = predicted.count(intent)
        ngold = gold.count(intent)
        per[intent] = (tp / npred if npred else 0.0, tp / ngold if ngold else 0.0, ngold)
    confusions = Counter((g, p) for g, p in zip(gold, predicted, strict=True) if g != p)
    correct = sum(1 for g, p in zip(gold, predicted, strict=True) if g == p)
    oos_p, oos_r, _ = per.get("out_of_scope", (0.0, 0.0, 0))
    hits = [g == p for g, p in zip(gold, predicted, strict=True)]
    return EvalResult(parser.name, len(pairs), correct, per, confusions, latencies, oos_p, oos_r, confidences, hits)


def evaluate_sync(parser: NLUParser, pairs: list[tuple[str, str]]) -> EvalResult:
    return evaluate(parser, pairs)


def load_parts(heldout_dir: Path, names: list[str]) -> list[tuple[str, str]]:
    """Held-out examples of the named files only (e.g. ["part1", "part2"]); a missing file is an error."""
    paths = [heldout_dir / f"{name}.yml" for name in names]
    for path in paths:
        if not path.is_file():
            raise FileNotFoundError(path)
    return read_nlu_files(paths)


def format_thresholds(r: EvalResult, thresholds: tuple[float, ...] = (0.2, 0.25, 0.3, 0.32, 0.35, 0.4, 0.5)) -> str:
    lines = [f"{'threshold':>10}{'below':>8}{'acc above':>11}{'acc below':>11}"]
    for t in thresholds:
        lines.append(f"{t:>10.2f}{r.share_below(t):>8.3f}{r.accuracy_above(t):>11.4f}{r.accuracy_below(t):>11.3f}")
    return "\n".join(lines)


def format_result(r: EvalResult, confusions: int = 25, threshold: float | None = None) -> str:
    lines = [f"backend: {r.backend}", f"held-out examples: {r.total}",
             f"top-1 accuracy: {r.accuracy:.4f}", f"macro F1: {r.macro_f1:.4f}",
             f"out-of-scope precision/recall: {r.oos_precision:.3f} / {r.oos_recall:.3f}",
             f"parse latency p50/p99 (ms): {r.latency(0.5):.2f} / {r.latency(0.99):.2f}"]
    if threshold is not None:
        lines.append(f"below threshold {threshold:.2f}: {r.share_below(threshold):.3f} of examples; "
                     f"accuracy above it {r.accuracy_above(threshold):.4f}")
    lines += ["",
             f"{'intent':<24}{'precision':>10}{'recall':>10}{'support':>9}"]
    for intent, (p, rec, n) in sorted(r.per_intent.items()):
        lines.append(f"{intent:<24}{p:>10.3f}{rec:>10.3f}{n:>9}")
    if r.confusions:
        lines += ["", "confusions (expected → predicted: count):"]
        lines += [f"  {g} → {p}: {n}" for (g, p), n in r.confusions.most_common(confusions)]
    return "\n".join(lines)


def format_side_by_side(results: list[EvalResult]) -> str:
    head = f"{'metric':<34}" + "".join(f"{r.backend:>14}" for r in results)
    rows = [
        ("top-1 accuracy", [f"{r.accuracy:.4f}" for r in results]),
        ("macro F1", [f"{r.macro_f1:.4f}" for r in results]),
        ("out-of-scope precision", [f"{r.oos_precision:.3f}" for r in results]),
        ("out-of-scope recall", [f"{r.oos_recall:.3f}" for r in results]),
        ("parse latency p50 (ms)", [f"{r.latency(0.5):.2f}" for r in results]),
        ("parse latency p99 (ms)", [f"{r.latency(0.99):.2f}" for r in results]),
    ]
    return "\n".join([head] + [f"{name:<34}" + "".join(f"{v:>14}" for v in vals) for name, vals in rows])


def main(argv: list[str] | None = None) -> None:
    """Evaluate the embedded model on groups of held-out files (one report per --part)."""
    import argparse
    import tempfile

    from nlu.embedded import EmbeddedNLU

    repo = Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(prog="python -m nlu.evaluate")
    ap.add_argument("--part", action="append", help="held-out files joined by +, e.g. part1+part2")
    ap.add_argument("--threshold", type=float, default=0.32)
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "fundguard-nlu-eval")
    args = ap.parse_args(argv)
    model = EmbeddedNLU.load_or_train(repo / "rasa" / "data", args.cache)
    for group in args.part or ["part1+part2", "part3"]:
        result = evaluate_sync(model, load_parts(repo / "heldout", group.split("+")))
        print(f"=== {group}")
        print(format_result(result, threshold=args.threshold))
        print(format_thresholds(result))
        print()


if __name__ == "__main__":
    main()
