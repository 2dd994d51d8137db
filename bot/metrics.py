"""Prometheus metrics. Labels are closed sets (channel, topic id, backend, status): never text or people's ids.

With several uvicorn workers, set PROMETHEUS_MULTIPROC_DIR to an empty folder shared by them; /metrics then
aggregates every worker (prometheus_client's multiprocess mode).
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

MESSAGES = Counter("fundguard_messages_total", "Messages answered, by channel and topic", ["channel", "topic"])
TURN_SECONDS = Histogram(
    "fundguard_turn_seconds", "Time to answer one message inside the engine", ["channel"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
NLU_PARSES = Counter("fundguard_nlu_parses_total", "NLU parses by the backend that answered", ["backend"])
NLU_FALLBACKS = Counter("fundguard_nlu_fallbacks_total", "Parses answered by the fallback because Rasa failed")
TIPS = Counter("fundguard_tips_filed_total", "Tips filed, by urgency", ["urgent"])
PUSHES = Counter("fundguard_pushes_total", "Campaign pushes by channel and result", ["channel", "status"])
HTTP_ERRORS = Counter("fundguard_http_errors_total", "Requests answered with a 4xx or 5xx, by route group",
                      ["route", "status"])


@lru_cache(maxsize=4096)  # closed label sets: a child per channel and topic, looked up once
def _turn_series(channel: str, topic: str) -> tuple[Any, Any]:
    return MESSAGES.labels(channel, topic), TURN_SECONDS.labels(channel)


def observe_turn(channel: str, topic: str, seconds: float) -> None:
    messages, seconds_of = _turn_series(channel, topic)
    messages.inc()
    seconds_of.observe(seconds)


def observe_parse(backend: str) -> None:
    _parses(backend).inc()


@lru_cache(maxsize=16)
def _parses(backend: str) -> Any:
    return NLU_PARSES.labels(backend)


def observe_tip(urgent: bool) -> None:
    TIPS.labels("yes" if urgent else "no").inc()


def observe_push(channel: str, status: str) -> None:
    PUSHES.labels(channel, status).inc()


def observe_http_error(route: str, status: int) -> None:
    HTTP_ERRORS.labels(route, str(status)).inc()


def render() -> bytes:
    """The text exposition of every metric (aggregated over workers in multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest()
