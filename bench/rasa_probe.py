"""Per-component cost of one Rasa parse, measured inside Rasa's own venv (run by bench/rasa.py, not by hand).

    <rasa venv>/bin/python bench/rasa_probe.py MODEL.tar.gz < prepared.json > costs.json

Reads a JSON list of [prepared text, expected intent], loads the model as `rasa run` does (Agent.load), times
every node of the prediction graph (GraphNode.__call__: the component's process() plus Rasa's per-node glue)
and the whole Agent.parse_message, over `--rounds` passes of all messages after one warm-up pass. Prints JSON:
per node the mean and p50 in ms, the whole parse's mean/p50/p99, and the top-1 accuracy in-process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

# bench/rasa.py would shadow the `rasa` package: this folder must not be on the path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))] if ordered else 0.0


def timed_nodes(agent: Any, costs: dict[str, list[float]]) -> None:
    """Wrap every instantiated graph node so that each call adds its wall time (ms) to costs[node]."""
    nodes = agent.processor.graph_runner._instantiated_nodes
    for name, node in nodes.items():
        def call(*args: Any, _node: Any = node, _name: str = name) -> Any:
            started = time.perf_counter()
            out = type(_node).__call__(_node, *args)
            costs[_name].append((time.perf_counter() - started) * 1000)
            return out
        nodes[name] = call


async def against_tensorflow(agent: Any, pairs: list[list[str]]) -> dict[str, Any]:
    """LinearDIETClassifier's numpy parse vs the same model's TensorFlow parse: top intents, confidences."""
    nodes = agent.processor.graph_runner._instantiated_nodes
    diet = [n._component for n in nodes.values() if hasattr(n, "_component") and hasattr(n._component, "_folded")]
    if not diet or diet[0]._folded is None:
        return {}
    folded, rankings = diet[0]._folded, []
    for use in (folded, None):
        diet[0]._folded = use
        rankings.append([(await agent.parse_message(t))["intent_ranking"] for t, _ in pairs])
    diet[0]._folded = folded
    pairs_of = list(zip(*rankings, strict=True))
    return {"top_intent_changed": sum(a[0]["name"] != b[0]["name"] for a, b in pairs_of),
            "max_confidence_diff": max(abs(x["confidence"] - y["confidence"]) for a, b in pairs_of
                                       for x, y in zip(a, b, strict=False))}


def _difference(fast: Any, reference: Any) -> float:
    """Largest absolute difference of two sparse matrices (inf when their shapes differ)."""
    if fast.shape != reference.shape:
        return float("inf")
    diff = abs(fast.tocsr().astype(np.float64) - reference.tocsr().astype(np.float64))
    return float(diff.max()) if diff.nnz else 0.0


def _against_sklearn(comp: Any, message: Any) -> float:
    """One fast featurizer's features of this message vs what scikit-learn's transform gives (0 for the others)."""
    from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
    from rasa.shared.nlu.constants import TEXT

    if hasattr(comp, "_features") and isinstance(comp, CountVectorsFeaturizer):  # FastCountVectorsFeaturizer
        tokens = comp._get_processed_message_tokens_by_attribute(message, TEXT)
        fast, reference = comp._features(TEXT, tokens), CountVectorsFeaturizer._create_features(comp, TEXT, [tokens])
        return max(_difference(f, r[0]) for f, r in zip(fast, reference, strict=True) if r[0] is not None)
    if hasattr(comp, "_reference") and hasattr(comp, "_matrix"):  # TfidfFeaturizer
        words, text = comp._words(message), "".join(message.get(TEXT).split())
        return max(_difference(comp._matrix(*args), comp._reference(*args))
                   for args in (([text], [words]), (words, [[w] for w in words])))
    return 0.0


def features_vs_sklearn(agent: Any, pairs: list[list[str]]) -> float:
    """Run the pipeline's components on each message; before every featurizer, compare its fast features."""
    from rasa.shared.nlu.constants import TEXT
    from rasa.shared.nlu.training_data.message import Message

    nodes = agent.processor.graph_runner._instantiated_nodes
    components = [n._component for name, n in nodes.items() if name.startswith("run_") and "Regex" not in name]
    worst = 0.0
    for text, _ in pairs:
        message = Message(data={TEXT: text})
        for comp in components:
            worst = max(worst, _against_sklearn(comp, message))
            comp.process([message])
    return worst


def component(node: str) -> str:
    """run_fundguard_rasa.TfidfFeaturizer3 → TfidfFeaturizer; run_DIETClassifier4 → DIETClassifier."""
    base = node.removeprefix("run_").rstrip("0123456789")
    return base.rsplit(".", 1)[-1]


async def measure(model: str, pairs: list[list[str]], rounds: int) -> dict[str, Any]:
    from rasa.core.agent import Agent
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.INFO)  # as `rasa run` without --debug: no debug records
    configure_structlog(logging.INFO)
    agent = Agent.load(model)
    for text, _ in pairs:  # warm-up: TensorFlow traces, caches fill
        await agent.parse_message(text)
    versus = await against_tensorflow(agent, pairs)
    versus["max_feature_diff_vs_sklearn"] = features_vs_sklearn(agent, pairs)
    costs: dict[str, list[float]] = defaultdict(list)
    timed_nodes(agent, costs)
    totals: list[float] = []
    correct = 0
    for _ in range(rounds):
        for text, intent in pairs:
            started = time.perf_counter()
            parsed = await agent.parse_message(text)
            totals.append((time.perf_counter() - started) * 1000)
            ranking = [r["name"] for r in parsed.get("intent_ranking") or [parsed["intent"]]
                       if r["name"] != "nlu_fallback"]
            correct += bool(ranking) and ranking[0] == intent
    n = len(pairs) * rounds
    nodes = {name: {"component": component(name), "mean_ms": round(sum(v) / n, 3),
                    "p50_ms": round(percentile(v, 50), 3)} for name, v in costs.items()}
    return {"parses": n, "nodes": nodes, "parse_mean_ms": round(sum(totals) / n, 3),
            "parse_p50_ms": round(percentile(totals, 50), 3), "parse_p99_ms": round(percentile(totals, 99), 3),
            "accuracy": round(correct / n, 4), "fast_vs_reference": versus}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--rounds", type=int, default=1)
    args = ap.parse_args()
    pairs = json.load(sys.stdin)
    print(json.dumps(asyncio.run(measure(args.model, pairs, args.rounds))))


if __name__ == "__main__":
    main()
