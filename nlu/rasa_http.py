"""The Rasa backend: a client of Rasa's POST /model/parse, and a circuit breaker that falls back to the embedded NLU.

Rasa runs as its own process (`fundguard rasa serve`, or the `rasa` service of docker-compose.yml). The client
sends the same normalised text the model was trained on (nlu.rasa_train exports the data through `prepare`),
waits a short time, and refuses any answer that is not a well-formed parse of a known intent. FallbackNLU puts
the embedded model behind it: when Rasa is down, slow or talks nonsense, people keep getting answers.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from bot import metrics
from nlu.base import NLUParser, Parse
from nlu.embedded import prepare

log = logging.getLogger(__name__)

FALLBACK_INTENT = "nlu_fallback"  # what Rasa's FallbackClassifier predicts when it is unsure
DEV_TOKEN = "dev-only-rasa-token"  # development only: `fundguard rasa serve` and the app agree on it
RANKING = 5


class RasaError(Exception):
    """Rasa did not give a usable parse."""


class RasaUnavailable(RasaError):
    """Rasa could not be reached in time."""


class RasaRefused(RasaError):
    """Rasa answered with an HTTP error status (a wrong token gives 401)."""


class RasaBadAnswer(RasaError):
    """Rasa answered 200 with something that is not a parse of a known intent."""


def resolve_token(token: str, environment: str) -> str:
    """The Rasa auth token: the configured one, a development default, or a refusal in production."""
    if token:
        return token
    if environment == "production":
        raise ValueError("FUNDGUARD_RASA_TOKEN must be set when FUNDGUARD_NLU_BACKEND=rasa in production")
    return DEV_TOKEN


def _confidence(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise RasaBadAnswer("confidence is not a number")
    if not 0.0 <= float(value) <= 1.0 + 1e-6:
        raise RasaBadAnswer("confidence out of range")
    return min(float(value), 1.0)


def _intent(item: Any) -> tuple[str, float]:
    if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
        raise RasaBadAnswer("intent without a name")
    return item["name"], _confidence(item.get("confidence"))


def to_parse(body: Any, intents: frozenset[str] | None = None, backend: str = "rasa") -> Parse:
    """A validated Parse from Rasa's /model/parse JSON; RasaBadAnswer for anything else.

    When Rasa's FallbackClassifier answered `nlu_fallback`, the best real intent is kept and its confidence is
    capped at the fallback's (the classifier's threshold), so that the engine asks which topic was meant.
    """
    if not isinstance(body, dict):
        raise RasaBadAnswer("not a JSON object")
    top_name, top_conf = _intent(body.get("intent"))
    raw_ranking = body.get("intent_ranking")
    if raw_ranking is None:
        raw_ranking = [body["intent"]]
    if not isinstance(raw_ranking, list):
        raise RasaBadAnswer("intent_ranking is not a list")
    ranking = [_intent(item) for item in raw_ranking]
    real = [(n, c) for n, c in ranking if n != FALLBACK_INTENT and (intents is None or n in intents)]
    if top_name == FALLBACK_INTENT:
        if not real:
            raise RasaBadAnswer("fallback without a ranking")
        name, conf = real[0][0], min(real[0][1], top_conf)
    else:
        if intents is not None and top_name not in intents:
            raise RasaBadAnswer("unknown intent")  # a model trained on other data: not ours to answer with
        name, conf = top_name, top_conf
    ordered = [(name, conf)] + [(n, c) for n, c in real if n != name]
    return Parse(name, conf, tuple(ordered[:RANKING]), backend)


class RasaHTTP:
    """A client of a Rasa server's POST /model/parse (token auth, short timeout, validated answers)."""

    name = "rasa"

    def __init__(self, url: str, token: str = "", *, timeout: float = 1.5, intents: Iterable[str] | None = None,
                 preprocess: Callable[[str], str] = prepare) -> None:
        self.url = url.rstrip("/")
        self._token = token
        self.timeout = timeout
        self.intents = frozenset(intents) if intents is not None else None
        self._preprocess = preprocess
        self._client: httpx.Client | None = None  # made on first use; httpx's Client is thread-safe
        self._lock = threading.Lock()

    def _http(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(timeout=httpx.Timeout(self.timeout), trust_env=False)
            return self._client

    def parse(self, text: str) -> Parse:
        params = {"token": self._token} if self._token else None
        try:
            response = self._http().post(f"{self.url}/model/parse", params=params,
                                         json={"text": self._preprocess(text)})
        except httpx.TransportError as exc:  # timeouts included
            raise RasaUnavailable(type(exc).__name__) from None  # never the request: it holds the text
        if response.status_code != 200:
            raise RasaRefused(f"HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise RasaBadAnswer("not JSON") from None
        return to_parse(body, self.intents, self.name)

    def status(self) -> dict[str, Any]:
        """Rasa's GET /status (the loaded model), for operators and tests."""
        params = {"token": self._token} if self._token else None
        response = self._http().get(f"{self.url}/status", params=params)
        response.raise_for_status()
        return dict(response.json())

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()


@dataclass(frozen=True)
class BreakerState:
    backend: str  # the backend answering now: "rasa" or the fallback's name
    rasa: str  # "up", "down" (answers come from the fallback) or "probing"
    failures: int  # Rasa failures since start
    consecutive_failures: int
    fallback_answers: int
    rasa_answers: int
    last_error: str | None  # the error's type only
    retry_in_seconds: float


class FallbackNLU:
    """Rasa first; on failure the fallback answers, Rasa is retried every `retry_after` seconds (half-open)."""

    name = "rasa"

    def __init__(self, primary: NLUParser, fallback: NLUParser, *, retry_after: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.primary = primary
        self.fallback = fallback
        self.retry_after = retry_after
        self._clock = clock
        self._open = False
        self._probing = False
        self._retry_at = 0.0
        self._failures = 0
        self._consecutive = 0
        self._fallback_answers = 0
        self._primary_answers = 0
        self._last_error: str | None = None
        self._lock = threading.Lock()  # turns run in several threads: one probe at a time

    def parse(self, text: str) -> Parse:
        with self._lock:
            waiting = self._open and (self._probing or self._clock() < self._retry_at)
            probe = self._open and not waiting
            if probe:
                self._probing = True
        if waiting:
            return self._from_fallback(text)
        try:
            parse = self.primary.parse(text)
        except Exception as exc:  # whatever went wrong, the person gets an answer from the fallback
            self._failed(exc)
            return self._from_fallback(text)
        finally:
            if probe:
                self._probing = False
        self._recovered()
        return parse

    def _failed(self, exc: Exception) -> None:
        self._failures += 1
        self._consecutive += 1
        self._last_error = type(exc).__name__
        self._retry_at = self._clock() + self.retry_after
        if not self._open:
            self._open = True
            log.warning("nlu: rasa failed, answering with the fallback", extra={
                "error": self._last_error, "fallback": self.fallback.name, "retry_after": self.retry_after})
        else:
            log.debug("nlu: rasa still failing", extra={"error": self._last_error})

    def _recovered(self) -> None:
        self._primary_answers += 1
        if self._open:
            log.info("nlu: rasa is back", extra={"failures": self._consecutive})
        self._open = False
        self._consecutive = 0

    def _from_fallback(self, text: str) -> Parse:
        self._fallback_answers += 1
        metrics.NLU_FALLBACKS.inc()
        return self.fallback.parse(text)

    @property
    def state(self) -> BreakerState:
        retry_in = max(0.0, self._retry_at - self._clock()) if self._open else 0.0
        rasa = "probing" if self._probing else ("down" if self._open else "up")
        return BreakerState(self.fallback.name if self._open else self.primary.name, rasa, self._failures,
                            self._consecutive, self._fallback_answers, self._primary_answers, self._last_error,
                            round(retry_in, 3))

    def health(self) -> dict[str, Any]:
        """For /readyz: which backend answers and how Rasa is doing (a Rasa outage is degraded, not down)."""
        state = asdict(self.state)
        state["status"] = "ok" if state["rasa"] == "up" else "degraded"
        return state
