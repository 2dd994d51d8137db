"""The real Rasa 3.6 server, trained from the project's data, behind /api/chat: answers, outage, recovery.

Rasa runs from its own venv: $FUNDGUARD_RASA_VENV, else the clone's .venv-rasa when built, else a cache outside the
clone (~/.cache/fundguard/venv-rasa-3.6.21) that `make rasa-venv` builds when missing (a clean CI machine) and later
runs reuse. To fit CI's budget the model is trained on a documented subset: PER_INTENT examples of each of the 40
intents (nlu.rasa_train.subset: a fixed order by hash of the text), EPOCHS DIET epochs instead of the configured 40.
Models are cached beside the venv under the hash of their data, config and components. The full model: `make rasa`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from bot.bootstrap import bootstrap
from bot.knowledge import load_topic_ids
from bot.settings import Settings
from nlu.data import load_heldout, load_training
from nlu.embedded import prepare
from nlu.rasa_http import FallbackNLU, RasaHTTP
from nlu.rasa_train import model_name, rasa_env, rasa_venv, subset, train, training_config, validate
from tests.conftest import IN_CI, REPO, free_port, make_settings
from tests.integration.test_chat_api import say
from webhook.app import create_app

pytestmark = pytest.mark.rasa

PER_INTENT = 30
EPOCHS = 30
TOKEN = "rasa-test-token"
QUESTION = "非法集资是什么意思"  # not a button label: it goes to the NLU
WORK = REPO / "var"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "fundguard"


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def venv() -> Iterator[Path]:
    path = rasa_venv()
    if "FUNDGUARD_RASA_VENV" not in os.environ and not (path / ".installed").exists():
        path = CACHE / "venv-rasa-3.6.21"
    if not (path / ".installed").exists():  # a clean machine: build it as `make rasa` would
        if shutil.which("make") is None:
            _unavailable("make is needed to build the Rasa venv")
        done = subprocess.run(["make", "--no-print-directory", "rasa-venv", f"RASA_VENV={path}"], cwd=REPO,
                              capture_output=True, text=True, timeout=1200, check=False)
        if done.returncode != 0:
            _unavailable(f"could not build the Rasa venv: {(done.stdout + done.stderr)[-2000:]}")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FUNDGUARD_RASA_VENV", str(path))  # nlu.rasa_train and `fundguard rasa serve` use this one
        yield path


@pytest.fixture(scope="module")
def model(venv: Path) -> Path:
    settings = Settings(environment="test", data_dir=WORK)
    models = CACHE / "rasa-models"
    name = model_name(subset(load_training(settings.nlu_data_dir), PER_INTENT), training_config(EPOCHS))
    path = models / f"{name}.tar.gz"
    if not path.exists():
        lines: list[str] = []
        started = time.perf_counter()
        code = train(settings, per_intent=PER_INTENT, epochs=EPOCHS, models_dir=models, echo=lines.append)
        assert code == 0, "\n".join(lines)
        print(f"\nrasa CI model trained in {time.perf_counter() - started:.0f} s")
    return path


class RasaServer:
    """`fundguard rasa serve` on a free loopback port, as a subprocess that can be killed and started again."""

    def __init__(self, model: Path, log: Path) -> None:
        self.model, self.log = model, log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 300) -> RasaServer:
        env = {**os.environ, "FUNDGUARD_RASA_TOKEN": TOKEN, "FUNDGUARD_DATA_DIR": str(WORK),
               "FUNDGUARD_RASA_VENV": str(rasa_venv())}
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "rasa", "serve", "--port", str(self.port), "--model",
                 str(self.model)], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"rasa exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                r = httpx.get(f"{self.url}/status", params={"token": TOKEN}, timeout=2)
                if r.status_code == 200 and r.json().get("model_file"):
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(1)
        self.kill()
        pytest.fail(f"rasa did not come up in {timeout} s:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)  # a crash, not a polite stop
            self.proc.wait(30)
        self.proc = None


def test_the_rasa_project_validates_clean(venv):
    lines: list[str] = []
    assert validate(lines.append) == 0, "\n".join(lines)


def test_the_fast_components_parse_as_tensorflow_and_sklearn_would(model, tmp_path):
    """fundguard_rasa's numpy DIET and dictionary featurizers vs the model's TensorFlow parse and sklearn's features."""
    pairs = [[prepare(text), intent] for text, intent in load_heldout(REPO / "nlu" / "heldout")][::6]
    done = subprocess.run([str(rasa_venv() / "bin" / "python"), str(REPO / "bench" / "rasa_probe.py"), str(model)],
                          input=json.dumps(pairs), capture_output=True, text=True, env=rasa_env(tmp_path), cwd=tmp_path,
                          timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    check = json.loads(done.stdout.strip().splitlines()[-1])["fast_vs_reference"]
    assert check["top_intent_changed"] == 0  # of the ~100 held-out messages
    assert check["max_confidence_diff"] < 1e-5
    assert check["max_feature_diff_vs_sklearn"] < 1e-5


def test_chat_answers_with_rasa_falls_back_when_it_dies_and_returns(model, embedded_nlu, sqlite_url, tmp_path):
    server = RasaServer(model, tmp_path / "rasa.log").start()
    try:
        topics = load_topic_ids(REPO / "content" / "spec" / "topics.yaml")
        parser = FallbackNLU(RasaHTTP(server.url, TOKEN, timeout=10.0, intents=topics), embedded_nlu,
                             retry_after=1.0)
        services = bootstrap(make_settings(tmp_path, sqlite_url), nlu=parser, embedded=embedded_nlu)
        direct = httpx.post(f"{server.url}/model/parse", params={"token": TOKEN},
                            json={"text": prepare(QUESTION)}, timeout=30).json()
        with TestClient(create_app(services=services), raise_server_exceptions=False) as client:
            body = say(client, "real-1", QUESTION)
            assert body["topic"] == direct["intent"]["name"] == "definition"
            assert body["confidence"] == pytest.approx(direct["intent"]["confidence"], abs=1e-4)
            nlu = client.get("/readyz").json()["nlu"]
            assert (nlu["backend"], nlu["rasa_answers"], nlu["fallback_answers"]) == ("rasa", 1, 0)

            server.kill()
            body = say(client, "real-2", QUESTION)
            assert body["topic"] == "definition" and body["replies"][0]["text"]  # the embedded model answers
            embedded = embedded_nlu.parse_sync(QUESTION)
            assert body["confidence"] == pytest.approx(embedded.confidence, abs=1e-4)
            nlu = client.get("/readyz").json()["nlu"]
            assert (nlu["backend"], nlu["status"], nlu["last_error"]) == ("embedded", "degraded", "RasaUnavailable")

            server.start()
            time.sleep(1.2)  # past retry_after: the next message probes Rasa
            body = say(client, "real-3", QUESTION)
            assert body["confidence"] == pytest.approx(direct["intent"]["confidence"], abs=1e-4)
            nlu = client.get("/readyz").json()["nlu"]
            assert (nlu["backend"], nlu["status"], nlu["rasa_answers"]) == ("rasa", "ok", 2)
        services.db.dispose()
    finally:
        server.kill()
