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
    from bot.channels.wechat_menu import Menu

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
    from bot.channels.wechat import WeChatApiError, WeChatClient

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
