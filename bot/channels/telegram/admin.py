"""Telegram's admin calls for the CLI: register or remove the webhook and the command menu."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from bot.channels.telegram.app import ALLOWED_UPDATES, bot_commands
from bot.channels.telegram.sender import make_bot, webhook_secret
from bot.settings import Settings


async def set_webhook(settings: Settings, url: str, *, drop_pending: bool = False) -> str:
    """Register the webhook (with its secret) and the command menu; returns the bot's username."""
    secret = webhook_secret(settings)
    async with make_bot(settings.telegram_token, settings.telegram_api_base) as bot:
        await bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES,
                              drop_pending_updates=drop_pending)
        await bot.set_my_commands(bot_commands())
        return str(bot.username)


async def delete_webhook(settings: Settings) -> None:
    async with make_bot(settings.telegram_token, settings.telegram_api_base) as bot:
        await bot.delete_webhook()


T = TypeVar("T")


class TelegramAdminError(Exception):
    """A webhook or polling command failed; the message names the problem, never a secret."""


def run_admin(coro: Coroutine[Any, Any, T]) -> T:
    """Run one admin call (set/delete the webhook, poll), turning PTB's errors into TelegramAdminError."""
    from telegram.error import InvalidToken, TelegramError

    try:
        return asyncio.run(coro)
    except InvalidToken:  # PTB's message would repeat the token
        raise TelegramAdminError("Telegram rejected FUNDGUARD_TELEGRAM_TOKEN") from None
    except TelegramError as exc:  # the message names the problem (bad token, bad URL); never a secret
        raise TelegramAdminError(f"Telegram refused: {type(exc).__name__}: {exc.message}") from None
    except OSError as exc:
        raise TelegramAdminError(f"cannot reach the Telegram API: {type(exc).__name__}") from None
    except ValueError as exc:  # a malformed FUNDGUARD_TELEGRAM_WEBHOOK_SECRET
        raise TelegramAdminError(str(exc)) from None
