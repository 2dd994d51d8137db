"""`fundguard rasa …`: serve and check the Rasa NLU server (it runs in its own venv, see `make rasa`)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from bot.settings import Settings


@click.group()
def rasa() -> None:
    """The Rasa NLU server (.venv-rasa; `make rasa` builds it and trains a model)."""


@rasa.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="loopback unless you know better")
@click.option("--port", default=5005, type=int, show_default=True)
@click.option("--model", "model", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="a model file (default: the newest in <data_dir>/rasa/models)")
def serve(host: str, port: int, model: Path | None) -> None:
    """Run `rasa run --enable-api` with the auth token FUNDGUARD_RASA_TOKEN and the latest model."""
    from nlu.rasa_http import resolve_token
    from nlu.rasa_train import latest_model, rasa_env, serve_command

    settings = Settings()
    settings.ensure_dirs()
    work = (settings.data_dir / "rasa").resolve()
    model = model or latest_model(work / "models")
    if model is None:
        raise click.ClickException(f"no model in {work / 'models'}: run `make rasa` or "
                                   "`fundguard nlu train --backend rasa` first")
    try:
        token = resolve_token(settings.rasa_token, settings.environment)
        command = serve_command(model.resolve(), token, host, port)
    except (ValueError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"rasa: serving {model.name} on http://{host}:{port} (POST /model/parse?token=…)", err=True)
    sys.stdout.flush()
    work.mkdir(parents=True, exist_ok=True)  # a model given by path: its own folder may be elsewhere
    os.chdir(work)
    os.execve(command[0], command, rasa_env(work))  # Rasa replaces this process: signals reach it directly


@rasa.command("validate")
def validate_cmd() -> None:
    """`rasa data validate` on nlu/rasa (domain, data, config)."""
    from nlu.rasa_train import validate

    try:
        sys.exit(validate(click.echo))
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from None
