"""Training and serving the Rasa model, driven from the app but run in Rasa's own venv (.venv-rasa, Python 3.10).

The app never imports Rasa: it runs the `rasa` executable of that venv. The training data is nlu/rasa/data
(never nlu/heldout), exported through the same `prepare` the client applies before each parse (simplified
characters, folded dialect forms, no punctuation), so Rasa sees text the way it will be asked.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from nlu.data import data_hash, load_training
from nlu.embedded import SYNONYMS, prepare

if TYPE_CHECKING:
    from bot.settings import Settings

REPO = Path(__file__).resolve().parent.parent
PROJECT = REPO / "nlu" / "rasa"
EXPORT_VERSION = "prep-1"  # bump when the export changes, so cached models are not reused
# Warnings `rasa data validate` always gives for an NLU-only project (no stories: the dialogue is bot/dialogue).
_EXPECTED_WARNING = re.compile(r"The intent '[^']+' is not used in any story or rule")
_WARNING = re.compile(r"UserWarning: (.*)")

Echo = Callable[[str], None]


def rasa_venv() -> Path:
    """Rasa's venv: $FUNDGUARD_RASA_VENV (e.g. a cache outside the clone) or .venv-rasa in the repo."""
    return Path(os.environ.get("FUNDGUARD_RASA_VENV") or REPO / ".venv-rasa")


def rasa_executable() -> Path:
    exe = rasa_venv() / "bin" / "rasa"
    if not exe.exists():
        raise FileNotFoundError(f"{exe} is missing: run `make rasa-venv` (or `make rasa`) first")
    return exe


def rasa_env(work: Path) -> dict[str, str]:
    """Rasa's environment: our components importable, no telemetry (no internet), caches under `work`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FUNDGUARD_")}
    env.update(PYTHONPATH=str(PROJECT), RASA_TELEMETRY_ENABLED="false", RASA_CACHE_DIRECTORY=str(work / "cache"),
               TF_CPP_MIN_LOG_LEVEL="2", SQLALCHEMY_SILENCE_UBER_WARNING="1", PYTHONWARNINGS="ignore")
    return env


def subset(pairs: list[tuple[str, str]], per_intent: int) -> list[tuple[str, str]]:
    """The first `per_intent` examples of every intent in a fixed pseudo-random order (by hash of the text)."""
    by_intent: dict[str, list[tuple[str, str]]] = {}
    for text, intent in pairs:
        by_intent.setdefault(intent, []).append((text, intent))
    out: list[tuple[str, str]] = []
    for intent in sorted(by_intent):
        ranked = sorted(by_intent[intent], key=lambda p: hashlib.sha1(p[0].encode()).hexdigest())
        out += ranked[:per_intent]
    return out


def export_data(pairs: list[tuple[str, str]], path: Path) -> int:
    """Rasa NLU YAML of the prepared examples (duplicates after preparation dropped); returns the count."""
    by_intent: dict[str, list[str]] = {}
    seen: set[str] = set()
    for text, intent in pairs:
        prepared = prepare(text)
        if prepared and prepared not in seen:
            seen.add(prepared)
            by_intent.setdefault(intent, []).append(prepared)
    doc = {"version": "3.1", "nlu": [{"intent": intent, "examples": "".join(f"- {t}\n" for t in texts)}
                                     for intent, texts in by_intent.items()]}
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return len(seen)


def training_config(epochs: int | None = None) -> str:
    """nlu/rasa/config.yml, with the DIET epochs overridden for a quick (CI) model."""
    config = yaml.safe_load((PROJECT / "config.yml").read_text(encoding="utf-8"))
    if epochs is not None:
        for component in config["pipeline"]:
            if component["name"].endswith("DIETClassifier"):  # Rasa's, or fundguard_rasa.LinearDIETClassifier
                component["epochs"] = epochs
    return yaml.safe_dump(config, allow_unicode=True, sort_keys=False)


def model_name(pairs: list[tuple[str, str]], config: str) -> str:
    """A model's file name from what it is trained on: data, config, folds and our components."""
    code = b"".join(p.read_bytes() for p in sorted((PROJECT / "fundguard_rasa").glob("*.py")))
    salt = EXPORT_VERSION + config + hashlib.sha256(SYNONYMS.read_bytes() + code).hexdigest()
    return "fundguard-" + data_hash(pairs, salt=salt)


def latest_model(models_dir: Path) -> Path | None:
    models = sorted(models_dir.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


def train(settings: Settings, *, per_intent: int | None = None, epochs: int | None = None,
          models_dir: Path | None = None, echo: Echo = print) -> int:
    """Train a Rasa NLU model into <data_dir>/rasa/models; 0 on success (the exit code)."""
    work = (settings.data_dir / "rasa").resolve()
    models_dir = (models_dir or work / "models").resolve()
    models_dir.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    pairs = load_training(settings.nlu_data_dir)
    if per_intent:
        pairs = subset(pairs, per_intent)
    config = training_config(epochs)
    name = model_name(pairs, config)
    with tempfile.TemporaryDirectory(prefix="rasa-train-", dir=work) as tmp:
        folder = Path(tmp)
        count = export_data(pairs, folder / "nlu.yml")
        (folder / "config.yml").write_text(config, encoding="utf-8")
        echo(f"training Rasa on {count} examples ({'all' if not per_intent else f'{per_intent} per intent'}, "
             f"{epochs or 'configured'} epochs) …")
        started = time.perf_counter()
        done = subprocess.run(
            [str(rasa_executable()), "train", "nlu", "--config", str(folder / "config.yml"),
             "--nlu", str(folder / "nlu.yml"), "--domain", str(PROJECT / "domain.yml"),
             "--out", str(models_dir), "--fixed-model-name", name],
            cwd=work, env=rasa_env(work), capture_output=True, text=True, check=False,
        )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        echo((done.stdout + done.stderr)[-3000:])
        echo(f"rasa train failed (exit {done.returncode})")
        return done.returncode
    model = models_dir / f"{name}.tar.gz"
    os.utime(model)  # the newest file is the model `fundguard rasa serve` picks
    echo(f"rasa model trained in {seconds:.0f} s: {model}")
    return 0


def validate(echo: Echo = print) -> int:
    """`rasa data validate` on nlu/rasa; 0 when it passes with no warning beyond the NLU-only ones."""
    with tempfile.TemporaryDirectory(prefix="rasa-validate-") as tmp:
        done = subprocess.run(
            [str(rasa_executable()), "data", "validate", "--domain", "domain.yml", "--data", "data",
             "--config", "config.yml"],
            cwd=PROJECT, env=rasa_env(Path(tmp)) | {"PYTHONWARNINGS": "default"}, capture_output=True, text=True,
            check=False,
        )
    out = done.stdout + done.stderr
    warnings = [w for w in _WARNING.findall(out) if not _EXPECTED_WARNING.search(w)]
    errors = [line for line in out.splitlines() if " ERROR " in line]
    for line in warnings + errors:
        echo(line)
    ok = done.returncode == 0 and not warnings and not errors
    echo("rasa data validate: clean" if ok else f"rasa data validate: {len(warnings)} warnings, {len(errors)} errors")
    return 0 if ok else 1


def serve_command(model: Path, token: str, host: str = "127.0.0.1", port: int = 5005) -> list[str]:
    return [str(rasa_executable()), "run", "--enable-api", "--auth-token", token, "-i", host, "-p", str(port),
            "--model", str(model)]
