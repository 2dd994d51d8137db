"""`fundguard nlu`: train and evaluate the NLU."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bot.settings import Settings


@click.group()
def nlu() -> None:
    """The NLU: train and evaluate."""


@nlu.command("eval")
@click.option("--backend", type=click.Choice(["embedded", "rasa", "both"]), default="embedded")
@click.option("--heldout", type=click.Path(path_type=Path), default=None)
def nlu_eval(backend: str, heldout: Path | None) -> None:
    """Accuracy, macro F1, out-of-scope detection and latency on the held-out file (Rasa: a running server)."""
    from bot.bootstrap import build_nlu
    from nlu.base import NLUParser
    from nlu.data import load_heldout
    from nlu.evaluate import evaluate_sync, format_result, format_side_by_side

    settings = Settings()
    settings.ensure_dirs()
    pairs = load_heldout(heldout or settings.nlu_data_dir.parent.parent / "heldout")
    parsers: list[NLUParser] = []
    missing: str | None = None
    if backend in ("embedded", "both"):
        parsers.append(build_nlu(settings))
    if backend in ("rasa", "both"):
        from bot.bootstrap.dialogue import build_rasa
        from nlu.rasa_http import RasaError

        rasa = build_rasa(settings, timeout=10.0)
        try:
            evaluate_sync(rasa, pairs[:1])
            parsers.append(rasa)
        except RasaError as exc:
            missing = (f"Rasa does not answer at {settings.rasa_url} ({type(exc).__name__}: {exc}): "
                       "start it with `make rasa-serve` (same FUNDGUARD_RASA_TOKEN)")
            if backend == "rasa":
                raise click.ClickException(missing) from None
    results = [evaluate_sync(p, pairs) for p in parsers]
    for r in results:
        click.echo(format_result(r))
        click.echo()
    if len(results) > 1:
        click.echo(format_side_by_side(results))
    if missing:  # --backend both without Rasa: the embedded half is above; say what is missing, and fail
        raise click.ClickException(missing + "; only the embedded results are shown")


@nlu.command("train")
@click.option("--backend", type=click.Choice(["embedded", "rasa"]), default="embedded")
@click.option("--per-intent", type=int, default=None, help="rasa: train on this many examples per intent")
@click.option("--epochs", type=int, default=None, help="rasa: DIET epochs (default: nlu/rasa/config.yml)")
def nlu_train(backend: str, per_intent: int | None, epochs: int | None) -> None:
    """(Re)train the NLU model from nlu/rasa/data (rasa: into <data_dir>/rasa/models, with .venv-rasa)."""
    settings = Settings()
    settings.ensure_dirs()
    if backend == "embedded":
        from nlu.embedded import EmbeddedNLU

        for old in (settings.data_dir / "cache").glob("nlu-*.pkl"):
            old.unlink()
        EmbeddedNLU.load_or_train(settings.nlu_data_dir, settings.data_dir / "cache")
        click.echo("embedded model trained")
    else:
        from nlu.rasa_train import train, validate

        try:
            code = validate(click.echo) or train(settings, per_intent=per_intent, epochs=epochs, echo=click.echo)
        except FileNotFoundError as exc:
            raise click.ClickException(str(exc)) from None
        sys.exit(code)
