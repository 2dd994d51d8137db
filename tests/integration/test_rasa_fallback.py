"""The Rasa backend against a recording fake of Rasa's HTTP API on localhost: answers, fallback, recovery, secrecy.

The fake speaks Rasa 3.6's wire format (POST /model/parse?token=…, the parse JSON) from a real HTTP server in a
thread; it can be stopped, made slow, made to talk garbage or refuse, and it records every text it was sent.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from fastapi.testclient import TestClient

from bot.bootstrap import bootstrap
from bot.knowledge import load_topic_ids
from nlu.embedded import prepare
from nlu.rasa_http import DEV_TOKEN, FallbackNLU, RasaBadAnswer, RasaHTTP, resolve_token, to_parse
from tests.conftest import REPO, free_port, make_settings
from tests.integration.test_chat_api import say
from tests.integration.test_tips import COMPANY, DETAIL, PERSON, PHONE, file_tip
from webhook.app import create_app

TOKEN = "fake-rasa-token"
TOPICS = frozenset(load_topic_ids(REPO / "content" / "spec" / "topics.yaml"))
# The fake's answers differ from the embedded model's, so every reply shows which backend answered.
QUESTION = "今天天气怎么样"  # the embedded model: out_of_scope
AFTER = "骗子一般用什么手段骗老人的钱"
RASA_SAYS = ("tactic_crypto", 0.875)
GARBAGE = [b"<html>502 Bad Gateway</html>", b'{"intent": "tactic_crypto"}', b'{"intent": {"name": "no_such_topic",'
           b' "confidence": 0.9}}', b'{"intent": {"name": "greet", "confidence": 7}}', b"[]", b""]


class FakeRasa:
    """Rasa's /model/parse on 127.0.0.1: scripted intents, failure modes, a record of every text received."""

    def __init__(self, answers: dict[str, tuple[str, float]]) -> None:
        self.answers = answers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.texts: list[str] = []
        self.mode = "ok"  # ok | slow | garbage | refuse
        self.garbage = GARBAGE[0]
        self._server: ThreadingHTTPServer | None = None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:  # noqa: N802
                url = urlparse(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if url.path != "/model/parse":
                    return self._send(404, b'{"status": "failure", "reason": "NotFound"}')
                if parse_qs(url.query).get("token") != [TOKEN] or fake.mode == "refuse":
                    return self._send(401, b'{"status": "failure", "reason": "NotAuthenticated", "code": 401}')
                text = json.loads(body)["text"]
                fake.texts.append(text)
                if fake.mode == "slow":
                    time.sleep(1.0)
                if fake.mode == "garbage":
                    return self._send(200, fake.garbage)
                name, conf = fake.answers.get(text, ("greet", 0.6))
                rest = (1.0 - conf) / 2
                answer = {"text": text, "intent": {"name": name, "confidence": conf}, "entities": [],
                          "text_tokens": [[0, len(text)]],
                          "intent_ranking": [{"name": name, "confidence": conf},
                                             {"name": "definition", "confidence": rest},
                                             {"name": "greet", "confidence": rest}],
                          "response_selector": {"all_retrieval_intents": [], "default": {}}}
                self._send(200, json.dumps(answer, ensure_ascii=False).encode())

        return Handler

    def start(self) -> FakeRasa:
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture
def fake_rasa():  # type: ignore[no-untyped-def]
    fake = FakeRasa({prepare(QUESTION): RASA_SAYS}).start()
    yield fake
    fake.stop()


def _app(services):  # type: ignore[no-untyped-def]
    return TestClient(create_app(services=services), raise_server_exceptions=False)


def _nlu_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "nlu.rasa_http" and r.levelno >= logging.WARNING]


def _fallbacks(client: TestClient) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith("fundguard_nlu_fallbacks_total "):
            return float(line.split()[1])
    return 0.0


@pytest.mark.parametrize("failure", ["stopped", "slow", "garbage", "refuse"])
def test_rasa_answers_then_the_fallback_then_rasa_again(fake_rasa, embedded_nlu, sqlite_url, tmp_path, caplog,
                                                        failure):
    clock = [0.0]  # the breaker's clock: the test moves it, so slow turns cannot reach the retry by accident
    parser = FallbackNLU(RasaHTTP(fake_rasa.url, TOKEN, timeout=0.3, intents=TOPICS),
                         embedded_nlu, retry_after=10.0, clock=lambda: clock[0])
    services = bootstrap(make_settings(tmp_path, sqlite_url), nlu=parser, embedded=embedded_nlu)
    caplog.set_level(logging.DEBUG, logger="nlu.rasa_http")
    with _app(services) as client:
        body = say(client, "weather-1", QUESTION)
        assert (body["topic"], body["confidence"]) == RASA_SAYS  # Rasa's parse, not the embedded one
        assert fake_rasa.texts == [prepare(QUESTION)]
        assert client.get("/readyz").json()["nlu"]["backend"] == "rasa"

        if failure == "stopped":
            fake_rasa.stop()
        else:
            fake_rasa.mode = failure
        before = _fallbacks(client)
        for i in range(3):
            body = say(client, f"weather-{i + 2}", QUESTION)
            assert body["topic"] == "out_of_scope" and body["replies"][0]["text"]  # the embedded model answers
        assert _fallbacks(client) == before + 3
        asked = len(fake_rasa.texts)
        assert asked == (1 if failure in ("stopped", "refuse") else 2)  # one failed try, then no more until retry
        nlu = client.get("/readyz").json()["nlu"]
        assert (nlu["backend"], nlu["status"], nlu["rasa"]) == ("embedded", "degraded", "down")
        assert nlu["failures"] == 1 and nlu["fallback_answers"] == 3
        warnings = _nlu_warnings(caplog)
        assert len(warnings) == 1  # one warning for the outage, not one per message
        assert warnings[0].error in {"stopped": "RasaUnavailable", "slow": "RasaUnavailable",  # type: ignore[attr-defined]
                                     "garbage": "RasaBadAnswer", "refuse": "RasaRefused"}[failure]
        assert QUESTION not in caplog.text and prepare(QUESTION) not in caplog.text

        clock[0] += 11  # past retry_after, Rasa still failing: a probe fails quietly, the fallback answers
        assert say(client, "weather-6", QUESTION)["topic"] == "out_of_scope"
        assert len(_nlu_warnings(caplog)) == 1 and client.get("/readyz").json()["nlu"]["failures"] == 2

        if failure == "stopped":
            fake_rasa.start()
        fake_rasa.mode = "ok"
        clock[0] += 11
        body = say(client, "weather-7", QUESTION)
        assert (body["topic"], body["confidence"]) == RASA_SAYS  # back to Rasa
        nlu = client.get("/readyz").json()["nlu"]
        assert (nlu["backend"], nlu["status"], nlu["consecutive_failures"]) == ("rasa", "ok", 0)
    services.db.dispose()


@pytest.mark.parametrize("garbage", GARBAGE)
def test_garbage_is_refused(fake_rasa, garbage):
    fake_rasa.mode, fake_rasa.garbage = "garbage", garbage
    with pytest.raises(RasaBadAnswer):
        RasaHTTP(fake_rasa.url, TOKEN, timeout=2.0, intents=TOPICS).parse(QUESTION)
    assert fake_rasa.texts == [prepare(QUESTION)]


def test_rasa_fallback_intent_keeps_the_best_topic_with_a_low_confidence():
    body = {"intent": {"name": "nlu_fallback", "confidence": 0.3},
            "intent_ranking": [{"name": "nlu_fallback", "confidence": 0.3}, {"name": "definition", "confidence": 0.46},
                               {"name": "four_features", "confidence": 0.41}]}
    parse = to_parse(body, TOPICS)
    assert (parse.intent, parse.confidence, parse.backend) == ("definition", 0.3, "rasa")
    assert [name for name, _ in parse.ranking] == ["definition", "four_features"]


def test_settings_wire_rasa_with_the_embedded_fallback(fake_rasa, make_services, sqlite_url):
    services = make_services(sqlite_url, nlu_backend="rasa", rasa_url=fake_rasa.url, rasa_token=TOKEN,
                             rasa_timeout=5.0)
    assert isinstance(services.nlu, FallbackNLU) and services.nlu.fallback is services.embedded
    with _app(services) as client:
        assert say(client, "wired-1", QUESTION)["topic"] == RASA_SAYS[0]
        assert fake_rasa.texts == [prepare(QUESTION)]
    services.db.dispose()


def test_a_wrong_token_falls_back_without_an_error(fake_rasa, make_services, sqlite_url, caplog):
    services = make_services(sqlite_url, nlu_backend="rasa", rasa_url=fake_rasa.url, rasa_token="not-the-token",
                             rasa_timeout=5.0)
    with _app(services) as client:
        body = say(client, "token-1", QUESTION)
        assert body["topic"] == "out_of_scope"
        assert client.get("/readyz").json()["nlu"]["last_error"] == "RasaRefused"
    assert fake_rasa.texts == [] and len(_nlu_warnings(caplog)) == 1
    services.db.dispose()


def test_tip_flow_text_never_reaches_rasa(fake_rasa, make_services, db_url):
    services = make_services(db_url, nlu_backend="rasa", rasa_url=fake_rasa.url, rasa_token=TOKEN,
                             rasa_timeout=5.0)
    with _app(services) as client:
        assert say(client, "tipster-r", QUESTION)["topic"] == RASA_SAYS[0]  # questions do go to Rasa
        file_tip(client, "tipster-r")
        file_tip(client, "tipster-s", contact=f"{PERSON} {PHONE}")
        assert say(client, "tipster-r", AFTER)["expects"] is None  # after the tip: Rasa again
    assert fake_rasa.texts == [prepare(QUESTION), prepare(AFTER)]
    recorded = "".join(fake_rasa.texts)
    for secret in (COMPANY, PERSON, PHONE, DETAIL, "石泉县", "三十万", "传单", "匿名", "确认"):
        assert secret not in recorded
    services.db.dispose()


def test_one_client_serves_several_event_loops(fake_rasa):
    rasa = RasaHTTP(fake_rasa.url, TOKEN, timeout=2.0, intents=TOPICS)  # turns run in several threads
    for _ in range(2):
        assert rasa.parse(QUESTION).intent == RASA_SAYS[0]
    assert len(fake_rasa.texts) == 2


def test_production_needs_a_rasa_token():
    with pytest.raises(ValueError, match="FUNDGUARD_RASA_TOKEN"):
        resolve_token("", "production")
    assert resolve_token("", "development") == DEV_TOKEN
    assert resolve_token("s3cret", "production") == "s3cret"
