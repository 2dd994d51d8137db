"""The `fundguard` command."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import click

from bot.settings import Settings


@click.group()
def main() -> None:
    """FundGuard: the 处非办 chat bot."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, type=int, show_default=True)
@click.option("--workers", default=1, type=int, show_default=True)
@click.option("--forwarded-allow-ips", default=None, metavar="IPS",
              help="proxies trusted to set X-Forwarded-For (IPs or CIDRs, comma-separated); "
                   "default: FUNDGUARD_TRUSTED_PROXIES, empty = trust none")
def serve(host: str, port: int, workers: int, forwarded_allow_ips: str | None) -> None:
    """Start the web app (uvicorn; several workers: forked from one process that loaded the model once)."""
    import uvicorn

    from bot import logs
    from bot.store.db import upgrade

    settings = Settings()
    trusted = trusted_proxies(settings.trusted_proxies if forwarded_allow_ips is None else forwarded_allow_ips)
    logs.configure(settings.log_level)
    settings.ensure_dirs()
    upgrade(settings.database_url)  # idempotent: a fresh database is ready before the first request
    if workers > 1:
        from webhook.serve import serve as prefork

        prefork(settings, host, port, workers, trusted)
        return
    # Only a trusted peer's X-Forwarded-For names the client: the rate limits key on that address.
    uvicorn.run("webhook.app:create_app", factory=True, host=host, port=port,
                log_config=None, access_log=False, server_header=False,
                proxy_headers=bool(trusted), forwarded_allow_ips=trusted or None)


def trusted_proxies(value: str) -> list[str]:
    """The trusted proxies as uvicorn takes them; a clear error for an entry that is no address or network."""
    import ipaddress

    items = [item.strip() for item in value.split(",") if item.strip()]
    for item in items:
        if item == "*" or item.startswith("unix:"):
            continue
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise click.BadParameter(f"{item!r} is not an IP address or network (e.g. 10.0.0.5 or 172.16.0.0/12)",
                                     param_hint="FUNDGUARD_TRUSTED_PROXIES / --forwarded-allow-ips") from None
    return items


@main.group()
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply the Alembic migrations to FUNDGUARD_DATABASE_URL."""
    from bot.store.db import upgrade

    settings = Settings()
    settings.ensure_dirs()
    upgrade(settings.database_url, revision)
    click.echo(f"database at {revision}")


@main.command()
@click.option("--user", default="terminal", show_default=True)
def chat(user: str) -> None:
    """Talk to the bot in the terminal (the same engine as every channel)."""
    from bot.bootstrap import bootstrap
    from bot.messages import Inbound

    services = bootstrap(Settings())
    click.echo("FundGuard 防范非法集资助手。输入问题回车发送，Ctrl-D 退出。")
    while True:
        try:
            text = input("你> ")
        except (EOFError, KeyboardInterrupt):
            click.echo()
            return
        if not text.strip():
            continue
        turn = asyncio.run(services.engine.handle(Inbound(channel="terminal", user=user, text=text)))
        for reply in turn.replies:
            click.echo(f"助手> {reply.text}")
            if reply.buttons:
                click.echo("      [" + "] [".join(b.label for b in reply.buttons) + "]")
        extra = [f"topic={turn.topic}", f"confidence={turn.confidence:.2f}"]
        if turn.expects:
            extra.append(f"expects={turn.expects}")
        if turn.receipt:
            extra.append(f"receipt={turn.receipt}")
        click.secho("      (" + " ".join(extra) + ")", dim=True)


@main.group()
def nlu() -> None:
    """The NLU: train and evaluate."""


@nlu.command("eval")
@click.option("--backend", type=click.Choice(["embedded", "rasa", "both"]), default="embedded")
@click.option("--heldout", type=click.Path(path_type=Path), default=None)
def nlu_eval(backend: str, heldout: Path | None) -> None:
    """Accuracy, macro F1, out-of-scope detection and latency on the held-out file (Rasa: a running server)."""
    from bot.bootstrap import build_nlu
    from nlu.data import load_heldout
    from nlu.evaluate import evaluate_sync, format_result, format_side_by_side

    settings = Settings()
    settings.ensure_dirs()
    pairs = load_heldout(heldout or settings.nlu_data_dir.parent.parent / "heldout")
    parsers, missing = [], None
    if backend in ("embedded", "both"):
        parsers.append(build_nlu(settings))
    if backend in ("rasa", "both"):
        from nlu.rasa_http import RasaError, RasaHTTP, resolve_token

        rasa = RasaHTTP(settings.rasa_url, resolve_token(settings.rasa_token, settings.environment), timeout=10.0)
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


@main.group()
def content() -> None:
    """The knowledge base in content/."""


@content.command("check")
def content_check() -> None:
    """Validate content/: schema, topic contract, house style, campaign pieces, tip categories, offices."""
    from bot.content_check import check

    # read as development: production settings refuse a sample directory before it could be reported
    settings = Settings(environment="development")
    environment = os.environ.get("FUNDGUARD_ENVIRONMENT", "development")
    try:
        report = check(settings.content_dir, environment)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    for line in report.warnings:
        click.echo(f"warning: {line}")
    for line in report.problems:
        click.echo(f"problem: {line}")
    if report.problems:
        click.echo(f"content has {len(report.problems)} problem(s)")
        sys.exit(1)
    click.echo(f"content ok: {report.topics} topics")


@main.group()
def riskcheck() -> None:
    """The risk check of pasted pitches."""


@riskcheck.command("eval")
@click.option("--set", "which", type=click.Choice(["main", "fresh", "holdout", "street", "all"]), default="all",
              show_default=True, help="Which labelled set of tests/data to score.")
@click.option("--errors/--no-errors", default=True, show_default=True, help="List the texts that disagree.")
@click.option("--lexicon", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Another lexicon file (default content/red_flags.yaml).")
def riskcheck_eval(which: str, errors: bool, lexicon: str | None) -> None:
    """Per-flag precision/recall and legit-clean share on the labelled sets in tests/data."""
    from bot.riskcheck_eval import SETS
    from bot.riskcheck_eval import main as run

    sys.exit(run(tuple(SETS) if which == "all" else (which,), lexicon, errors))


@main.group()
def verdict() -> None:
    """Personal verdicts: described situations and multi-turn dialogues."""


@verdict.command("eval")
@click.option("--part", "parts", multiple=True, type=click.Choice(["dev", "holdout", "all"]),
              help="dev: odd ids (errors printed); holdout: even ids (scores only); default both")
@click.option("--set", "sets", multiple=True, type=click.Choice(["heldout", "blind2"]),
              help="which blind set (default both)")
@click.option("--errors/--no-errors", default=True, help="print the dev half's errors")
def verdict_eval(parts: tuple[str, ...], sets: tuple[str, ...], errors: bool) -> None:
    """Score the held-out situations and dialogues through the engine (flags, verdicts, dialogue turns)."""
    from bot.verdict_eval import main as run

    raise SystemExit(run(parts or ("dev", "holdout"), sets or ("heldout", "blind2"), errors))


def _register() -> None:
    from bot.cli_tips import office, tips

    main.add_command(office)
    main.add_command(tips)
    # --- further command groups (one import + add_command per module: wechat, telegram, staff, ...) ---
    from bot.cli_staff import staff

    main.add_command(staff)
    from bot.cli_telegram import telegram

    main.add_command(telegram)
    from bot.cli_wechat import wechat

    main.add_command(wechat)
    from bot.cli_rasa import rasa

    main.add_command(rasa)
    from bot.cli_campaign import campaign, worker

    main.add_command(campaign)
    main.add_command(worker)


_register()

if __name__ == "__main__":
    main()
