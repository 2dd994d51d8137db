"""`fundguard content check`, `riskcheck eval`, `verdict eval`: the content and its measures."""

from __future__ import annotations

import os
import sys

import click

from bot.settings import Settings


@click.group()
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


@click.group()
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
    from bot.riskcheck.evaluate import SETS
    from bot.riskcheck.evaluate import main as run

    sys.exit(run(tuple(SETS) if which == "all" else (which,), lexicon, errors))


@click.group()
def verdict() -> None:
    """Personal verdicts: described situations and multi-turn dialogues."""


@verdict.command("eval")
@click.option("--part", "parts", multiple=True, type=click.Choice(["dev", "holdout", "all"]),
              help="dev: odd ids (errors printed); holdout: even ids (scores only); default both")
@click.option("--set", "sets", multiple=True,
              type=click.Choice(["heldout", "blind2", "blind3", "blind4", "blind5", "blind6"]),
              help="which blind set (default all)")
@click.option("--errors/--no-errors", default=True, help="print the dev half's errors")
def verdict_eval(parts: tuple[str, ...], sets: tuple[str, ...], errors: bool) -> None:
    """Score the held-out situations and dialogues through the engine (flags, verdicts, dialogue turns)."""
    from bot.riskcheck.verdict_eval import SETS
    from bot.riskcheck.verdict_eval import main as run

    raise SystemExit(run(parts or ("dev", "holdout"), sets or tuple(SETS), errors))
