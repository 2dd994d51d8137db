"""`fundguard campaign …` (create, schedule, list, stats, cancel, run) and `fundguard worker`."""

from __future__ import annotations

import json
import time
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import click

from bot.messages import PUSH_CHANNELS
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.bootstrap import Services
    from bot.campaigns.config import CampaignConfig
    from bot.campaigns.runtime import Runtime


def _services() -> Services:
    from bot.bootstrap import bootstrap
    from bot.store.db import upgrade

    settings = Settings()
    settings.ensure_dirs()
    for attempt in range(6):  # the app (or another worker) may be migrating the same database right now
        try:
            upgrade(settings.database_url)
            break
        except Exception:
            if attempt == 5:
                raise
            time.sleep(2)
    return bootstrap(settings, with_engine=False)


def _config() -> CampaignConfig:
    from bot.campaigns.config import CampaignConfig

    return CampaignConfig()


def _parse_local(text: str, tz: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip().replace("/", "-"))
    except ValueError as exc:
        raise click.BadParameter(f"{text!r}: use YYYY-MM-DD HH:MM (local time)") from exc
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo(tz))


def _local(value: datetime | None, tz: str) -> str:
    return value.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M") if value else "-"


@click.group()
def campaign() -> None:
    """Campaign pushes: content, schedule, statistics."""


@campaign.command("pieces")
def pieces() -> None:
    """List the content pieces and the calendar."""
    from bot.campaigns.content import Library

    lib = Library.load(Settings().content_dir)
    for p in lib.pieces.values():
        click.echo(f"{p.id:<28} {p.audience:<14} {p.title}")
    click.echo("calendar:")
    for e in lib.calendar:
        when = e.every_year or ", ".join(d.isoformat() for d in e.on_dates[:3]) + " …"
        click.echo(f"  {e.id:<14} {when:<36} {e.at:%H:%M} {e.piece:<26} {','.join(e.audiences) or 'all'}")


@campaign.command("check")
def check() -> None:
    """Validate content/campaigns (schema, coverage of every group, buttons the bot understands)."""
    svc = _services()
    from bot.campaigns.runtime import load_library

    lib = load_library(svc)
    known = set(svc.knowledge.button_map()) | {t.title for t in svc.knowledge.topics.values()}
    problems = lib.problems(known)
    for p in problems:
        click.echo(f"problem: {p}", err=True)
    if problems:
        raise SystemExit(1)
    click.echo(f"campaign content ok: {len(lib.pieces)} pieces, {len(lib.calendar)} calendar entries")


@campaign.command("create")
@click.option("--piece", required=True, help="a piece id (see `fundguard campaign pieces`)")
@click.option("--at", "at", default=None, help="local start time YYYY-MM-DD HH:MM (default: now)")
@click.option("--audience", "audiences", multiple=True, help="group(s); default: the piece's own")
@click.option("--county", "counties", multiple=True, help="county code(s); default: the whole city")
@click.option("--channel", "channels", multiple=True, type=click.Choice(PUSH_CHANNELS))
@click.option("--name", default=None)
@click.option("--wechat-path", type=click.Choice(("service", "mass", "subscribe")), default=None,
              help="WeChat: customer-service (48 h), 群发 by tag, or 订阅通知 (default FUNDGUARD_CAMPAIGN_WECHAT_PATH)")
@click.option("--force", is_flag=True, help="send even to people who got this piece within the repeat period")
def create(piece: str, at: str | None, audiences: tuple[str, ...], counties: tuple[str, ...],
           channels: tuple[str, ...], name: str | None, wechat_path: str | None, force: bool) -> None:
    """Schedule a campaign by hand (a time in quiet hours moves to their end)."""
    from bot.campaigns.policy import REASONS
    from bot.campaigns.runtime import campaign_service
    from bot.campaigns.service import CampaignError

    cfg = _config()
    svc = _services()
    service = campaign_service(svc, cfg)
    when = _parse_local(at, cfg.timezone) if at else None
    try:
        c = service.create(piece, at=when, audiences=list(audiences) or None, counties=counties,
                           channels=channels, name=name, wechat_path=wechat_path, force=force)
    except CampaignError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"campaign {c.id} scheduled for {_local(c.scheduled_at, cfg.timezone)} ({c.name}; "
               f"WeChat path {c.wechat_path})")
    seen = service.reach(c.id, list(svc.senders), window_hours=cfg.wechat_window_hours,
                         template=cfg.wechat_subscribe_template)
    if seen.unreachable:
        click.echo(f"warning: {seen.unreachable} of {seen.targeted} targeted subscribers cannot be reached:", err=True)
    else:
        click.echo(f"all {seen.targeted} targeted subscribers can be reached")
    for reason, n in seen.reasons.most_common():
        click.echo(f"  {n:>7}  {REASONS[reason]}", err=True)


@campaign.command("schedule")
@click.argument("campaign_id", type=int, required=False)
@click.option("--at", "at", default=None, help="move a scheduled campaign to this local time")
@click.option("--calendar", "from_calendar", is_flag=True, help="make campaigns from content/campaigns/calendar.yaml")
@click.option("--days", default=366, show_default=True, help="with --calendar: how far ahead")
@click.option("--from", "start", default=None, help="with --calendar: first day (default: today)")
def schedule(campaign_id: int | None, at: str | None, from_calendar: bool, days: int, start: str | None) -> None:
    """Schedule the calendar's campaigns, or move one campaign to another time."""
    from bot.campaigns.runtime import campaign_service
    from bot.campaigns.service import CampaignError

    cfg = _config()
    service = campaign_service(_services(), cfg)
    if from_calendar:
        first = date.fromisoformat(start) if start else datetime.now(ZoneInfo(cfg.timezone)).date()
        made = service.schedule_calendar(first, first + timedelta(days=days))
        for c in made:
            click.echo(f"campaign {c.id} scheduled for {_local(c.scheduled_at, cfg.timezone)} ({c.name})")
        for reason in service.refused:
            click.echo(f"not scheduled: {reason}", err=True)
        click.echo(f"{len(made)} new campaign(s) from the calendar")
        return
    if campaign_id is None or at is None:
        raise click.UsageError("give --calendar, or a campaign id and --at")
    try:
        c = service.reschedule(campaign_id, _parse_local(at, cfg.timezone))
    except CampaignError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"campaign {c.id} moved to {_local(c.scheduled_at, cfg.timezone)}")


@campaign.command("list")
@click.option("--limit", default=50, show_default=True)
def list_campaigns(limit: int) -> None:
    """Campaigns, latest first."""
    from bot.campaigns.runtime import campaign_service

    cfg = _config()
    for c in campaign_service(_services(), cfg).list(limit):
        click.echo(f"{c.id:>5}  {c.status:<9} {_local(c.scheduled_at, cfg.timezone)}  {c.planned:>7}  "
                   f"{c.piece:<26} {c.wechat_path:<9} {','.join(c.audiences) or 'all'} {','.join(c.counties)}"
                   + (f"  ({c.failure})" if c.failure else ""))


@campaign.command("stats")
@click.argument("campaign_id", type=int)
@click.option("--json", "as_json", is_flag=True)
def stats(campaign_id: int, as_json: bool) -> None:
    """Sent, failed, not reachable, unsubscribed since: in all, by group and by county."""
    from bot.campaigns.stats import campaign_stats, format_stats
    from bot.store.subscribers import AUDIENCES

    svc = _services()
    result = campaign_stats(svc.sessions, campaign_id)
    if result is None:
        raise click.ClickException(f"no campaign {campaign_id}")
    if as_json:
        click.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=1))
        return
    counties = {o.code: o.area for o in svc.offices.counties}
    click.echo(format_stats(result, counties, AUDIENCES))


@campaign.command("cancel")
@click.argument("campaign_id", type=int)
def cancel(campaign_id: int) -> None:
    """Stop a scheduled or running campaign (what was not sent yet is never sent)."""
    from bot.campaigns.runtime import campaign_service

    if not campaign_service(_services(), _config()).cancel(campaign_id):
        raise click.ClickException(f"campaign {campaign_id} is not scheduled or running")
    click.echo(f"campaign {campaign_id} cancelled")


@campaign.command("run")
@click.argument("campaign_id", type=int)
def run(campaign_id: int) -> None:
    """Start a scheduled campaign now and send it from this process until it is done."""
    from bot import logs
    from bot.campaigns.runtime import campaign_service
    from bot.campaigns.service import CampaignError
    from bot.campaigns.worker import run_worker
    from bot.store.models import utcnow

    svc = _services()
    cfg = _config()
    logs.configure(svc.settings.log_level)
    service = campaign_service(svc, cfg)
    current = service.get(campaign_id)
    if current is None:
        raise click.ClickException(f"no campaign {campaign_id}")
    if current.status in ("scheduled", "failed"):
        try:
            service.reschedule(campaign_id, utcnow())
        except CampaignError as exc:
            raise click.ClickException(str(exc)) from exc
    if not svc.senders:
        reason = "no push channel is configured (FUNDGUARD_TELEGRAM_TOKEN / FUNDGUARD_WECHAT_APP_ID)"
        service.fail(campaign_id, reason)
        raise click.ClickException(f"campaign {campaign_id} failed and was not started: {reason}. "
                                   f"Nothing was sent; `campaign run {campaign_id}` tries again.")

    def finished(rt: Runtime) -> bool:
        c = rt.campaigns.get(campaign_id)
        return c is None or c.status in ("done", "cancelled")

    try:
        run_worker(svc, cfg, embedded=True, until=finished)
    except Exception as exc:
        if service.fail(campaign_id, f"campaign run: {type(exc).__name__}: {exc}"):
            raise click.ClickException(f"campaign {campaign_id} failed before it started ({exc})") from exc
        raise click.ClickException(f"campaign {campaign_id} stopped ({type(exc).__name__}); it stays "
                                   "running and `fundguard worker` or `campaign run` resumes it") from exc
    campaign = service.get(campaign_id)
    click.echo(f"campaign {campaign_id}: {campaign.status if campaign else 'gone'}")


@click.command()
@click.option("--threads", type=int, default=None, help="worker threads (default FUNDGUARD_CAMPAIGN_WORKER_THREADS)")
def worker(threads: int | None) -> None:
    """Run a campaign worker (Redis broker when FUNDGUARD_REDIS_URL is set, else in-process)."""
    from bot import logs
    from bot.campaigns.worker import run_worker

    svc = _services()
    logs.configure(svc.settings.log_level)
    cfg = _config()
    if threads:
        cfg.worker_threads = threads
    run_worker(svc, cfg)
