"""`fundguard wechat ...`: the WeChat official account's set-up commands."""

from __future__ import annotations

import json

import click

from bot.settings import Settings


@click.group()
def wechat() -> None:
    """The WeChat official account."""


@wechat.command("menu")
@click.option("--dry-run", is_flag=True, help="Print the menu as WeChat receives it; do not push it.")
def wechat_menu(dry_run: bool) -> None:
    """Push the menu in content/wechat_menu.yaml to WeChat (the menu create API)."""
    from bot.channels.wechat.menu import Menu

    settings = Settings()
    try:
        menu = Menu.load(settings.content_dir / "wechat_menu.yaml")
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"wechat_menu.yaml: {exc}") from exc
    payload = menu.to_wechat()
    if dry_run:
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    if not (settings.wechat_app_id and settings.wechat_app_secret):
        raise click.ClickException("set FUNDGUARD_WECHAT_APP_ID and FUNDGUARD_WECHAT_APP_SECRET first")
    from bot.bootstrap import bootstrap
    from bot.channels.wechat.client import WeChatClient
    from bot.channels.wechat.errors import WeChatApiError

    services = bootstrap(settings, with_engine=False)
    try:
        client = services.senders["wechat"]
        assert isinstance(client, WeChatClient)
        client.create_menu(payload)
    except WeChatApiError as exc:
        raise click.ClickException(f"WeChat refused the menu (errcode {exc.code})") from exc
    finally:
        services.db.dispose()
    click.echo(f"menu pushed: {len(menu.items)} buttons, {len(menu.clickable())} actions")


@wechat.command("sync-tags")
@click.option("--rate", type=float, default=None,
              help="tag API calls a second (default FUNDGUARD_CAMPAIGN_WECHAT_TAG_RATE)")
def wechat_sync_tags(rate: float | None) -> None:
    """Tag every WeChat subscriber with their group and county (one tag each); untag those who left.

    Batches of 50, paced; safe to stop and run again (it continues, and a second run changes nothing)."""
    from bot.bootstrap.campaigns import tag_sync
    from bot.campaigns.config import CampaignConfig
    from bot.cli.worker import campaign_services

    cfg = CampaignConfig()
    if rate is not None:
        cfg.wechat_tag_rate = rate
    services = campaign_services()
    try:
        sync = tag_sync(services, cfg)
        if sync is None:
            raise click.ClickException("set FUNDGUARD_WECHAT_APP_ID and FUNDGUARD_WECHAT_APP_SECRET first")
        report = sync.run()
    finally:
        services.db.dispose()
    for key, n in sorted(report.by_tag.items()):
        click.echo(f"  {sync.tag_name(key):<24} +{n}")
    click.echo(f"tags created {report.tags_created}, tagged {report.tagged}, untagged {report.untagged}, "
               f"not followers {len(report.not_followers)}, API calls {report.calls}, {report.seconds:.1f} s")
    if report.stopped:
        raise click.ClickException(f"stopped by WeChat (errcode {report.stopped}); run it again later to continue")
