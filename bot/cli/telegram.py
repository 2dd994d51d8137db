"""`fundguard telegram …`: register the webhook, or run the bot by polling (no public URL needed)."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Coroutine
from typing import Any, TypeVar
from urllib.parse import urlsplit

import click

from bot.settings import Settings

T = TypeVar("T")


def _settings() -> Settings:
    settings = Settings()
    if not settings.telegram_token:
        raise click.UsageError("FUNDGUARD_TELEGRAM_TOKEN is not set (the token from @BotFather)")
    return settings


def _run(coro: Coroutine[Any, Any, T]) -> T:
    from bot.channels.telegram.admin import TelegramAdminError, run_admin

    try:
        return run_admin(coro)
    except TelegramAdminError as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
def telegram() -> None:
    """The Telegram channel."""


@telegram.command("set-webhook")
@click.argument("url")
@click.option("--drop-pending", is_flag=True, help="discard updates Telegram is holding for the bot")
def set_webhook_cmd(url: str, drop_pending: bool) -> None:
    """Register URL (https://your.host/telegram) as the webhook, with the secret header and the commands."""
    parts = urlsplit(url)
    local = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        raise click.BadParameter("Telegram only calls https:// URLs", param_hint="URL")
    if not parts.path.rstrip("/").endswith("/telegram"):
        click.echo("note: this app receives Telegram updates at the path /telegram", err=True)
    from bot.channels.telegram.admin import set_webhook

    settings = _settings()
    username = _run(set_webhook(settings, url, drop_pending=drop_pending))
    click.echo(f"webhook set for @{username}: {parts.scheme}://{parts.netloc}{parts.path} (secret header on)")


@telegram.command("delete-webhook")
def delete_webhook_cmd() -> None:
    """Remove the webhook (needed before `poll`, which does it by itself)."""
    from bot.channels.telegram.admin import delete_webhook

    _run(delete_webhook(_settings()))
    click.echo("webhook removed")


@telegram.command("poll")
@click.option("--timeout", default=10, show_default=True, help="long-poll timeout in seconds")
def poll(timeout: int) -> None:
    """Run the bot by long polling: no public URL needed (the easiest way to try it). Ctrl-C stops."""
    from bot import logs
    from bot.bootstrap import bootstrap
    from bot.channels.telegram.app import run_polling
    from bot.store.db import upgrade

    settings = _settings()
    logs.configure(settings.log_level)
    settings.ensure_dirs()
    upgrade(settings.database_url)
    services = bootstrap(settings)
    parts = services.talk.telegram if services.talk is not None else None
    assert parts is not None  # _settings() checked the token

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        click.echo("polling Telegram; Ctrl-C to stop")
        await run_polling(parts, stop=stop, poll_timeout=timeout)

    try:
        _run(main())
    finally:
        services.db.dispose()
    click.echo("stopped")
