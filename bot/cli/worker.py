"""`fundguard campaign run` and `fundguard worker`: sending campaigns; the services the campaign commands use."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import click

from bot.settings import Settings

if TYPE_CHECKING:
    from bot.bootstrap import Services
    from bot.campaigns.config import CampaignConfig


def campaign_services() -> Services:
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


def campaign_config() -> CampaignConfig:
    from bot.campaigns.config import CampaignConfig

    return CampaignConfig()


@click.command("run")
@click.argument("campaign_id", type=int)
def run(campaign_id: int) -> None:
    """Start a scheduled campaign now and send it from this process until it is done."""
    from bot import logs
    from bot.bootstrap.campaigns import campaign_runtime, campaign_service
    from bot.campaigns.service import CampaignError
    from bot.campaigns.worker import run_worker
    from bot.store.models import utcnow

    svc = campaign_services()
    cfg = campaign_config()
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

    def finished(rt) -> bool:  # type: ignore[no-untyped-def]
        c = rt.campaigns.get(campaign_id)
        return c is None or c.status in ("done", "cancelled")

    try:
        run_worker(campaign_runtime(svc, cfg), embedded=True, until=finished)
    except Exception as exc:
        if service.fail(campaign_id, f"campaign run: {type(exc).__name__}: {exc}"):
            raise click.ClickException(f"campaign {campaign_id} failed before it started ({exc})") from exc
        raise click.ClickException(f"campaign {campaign_id} stopped ({type(exc).__name__}); it stays "
                                   "running and `fundguard worker` or `campaign run` resumes it") from exc
    click.echo(f"campaign {campaign_id}: {service.get(campaign_id).status}")  # type: ignore[union-attr]


@click.command()
@click.option("--threads", type=int, default=None, help="worker threads (default FUNDGUARD_CAMPAIGN_WORKER_THREADS)")
def worker(threads: int | None) -> None:
    """Run a campaign worker (Redis broker when FUNDGUARD_REDIS_URL is set, else in-process)."""
    from bot import logs
    from bot.bootstrap.campaigns import campaign_runtime
    from bot.campaigns.worker import run_worker

    svc = campaign_services()
    logs.configure(svc.settings.log_level)
    cfg = campaign_config()
    if threads:
        cfg.worker_threads = threads
    run_worker(campaign_runtime(svc, cfg))
