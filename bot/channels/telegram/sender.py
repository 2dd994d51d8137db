"""The Telegram channel (python-telegram-bot v22): the push sender, the API URLs, how replies look.

SDK objects stop in bot/channels/telegram*.py; the core sees only Outbound and SendResult.
Campaign pushes use `TelegramSender` (made by the bootstrap when a token is set).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
import warnings
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

from sqlalchemy.orm import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import AIORateLimiter, ExtBot
from telegram.request import HTTPXRequest

from bot.channels.base import SendResult
from bot.messages import Button, Outbound
from bot.settings import Settings
from bot.store.subscribers import SubscriberRepository

MAX_TEXT = 4096
SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def api_urls(api_base: str) -> tuple[str, str]:
    """PTB's base_url and base_file_url from FUNDGUARD_TELEGRAM_API_BASE (".../bot" or ".../bot{token}")."""
    base = api_base if "{token}" in api_base else api_base.rstrip("/")
    if "/bot{token}" in base:
        return base, base.replace("/bot{token}", "/file/bot{token}", 1)
    if base.endswith("/bot"):
        return base, base[: -len("/bot")] + "/file/bot"
    return base, base


def webhook_secret(settings: Settings) -> str:
    """The X-Telegram-Bot-Api-Secret-Token: the configured one, else derived from the app secret."""
    configured = settings.telegram_webhook_secret
    if configured:
        if not SECRET_RE.match(configured):
            raise ValueError("FUNDGUARD_TELEGRAM_WEBHOOK_SECRET: 1-256 characters of A-Z a-z 0-9 _ -")
        return str(configured)
    return hashlib.blake2b(settings.secret_key.encode(), key=b"telegram-webhook", digest_size=24).hexdigest()


class _NoPayload(logging.Filter):
    """PTB logs requests' parameters and updates at DEBUG: keep the message template, drop the data."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.args = ()
        return True


def quiet_sdk_logs() -> None:
    """Chat ids and texts never reach the logs through the SDK (filters on every telegram.* logger)."""
    for name in [n for n in logging.root.manager.loggerDict if n == "telegram" or n.startswith("telegram.")]:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _NoPayload) for f in logger.filters):
            logger.addFilter(_NoPayload())


def make_bot(token: str, api_base: str, *, rate: float = 30.0, retries: int = 0, pool: int = 16) -> ExtBot[int]:
    """A bot whose sends pass PTB's AIORateLimiter (global `rate`/s, 20/min per group)."""
    base, files = api_urls(api_base)
    quiet_sdk_logs()
    return ExtBot(token, base_url=base, base_file_url=files, request=HTTPXRequest(connection_pool_size=pool),
                  rate_limiter=AIORateLimiter(overall_max_rate=rate, max_retries=retries))


# -- how replies look -------------------------------------------------------------------------------
def keyboard(buttons: Sequence[Button]) -> InlineKeyboardMarkup | None:
    """Quick replies as an inline keyboard; callback data is the label's index ("b0", "b1", ...)."""
    labels = [b.label for b in buttons]
    if not labels:
        return None
    width = max(len(label) for label in labels)
    per_row = 3 if width <= 5 else 2 if width <= 9 else 1
    keys = [InlineKeyboardButton(label, callback_data=f"b{i}") for i, label in enumerate(labels)]
    return InlineKeyboardMarkup([keys[i:i + per_row] for i in range(0, len(keys), per_row)])


def link_keyboard(label: str, url: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, url=url)]])


def chunks(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Telegram's 4096-character limit: split at line breaks where possible."""
    text = text if text.strip() else "请选择："
    parts: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        cut = cut if cut > limit // 2 else limit
        parts.append(text[:cut])
        text = text[cut:].lstrip("\n")
    return [*parts, text]


def render(out: Outbound) -> list[tuple[str, InlineKeyboardMarkup | None]]:
    """One Outbound as Telegram messages: the keyboard goes with the last piece."""
    pieces = chunks(out.text)
    return [(p, keyboard(out.buttons) if i == len(pieces) - 1 else None) for i, p in enumerate(pieces)]


def retry_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PTB 22 warns that retry_after becomes a timedelta
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def chat_ref(chat_id: str | int) -> int | str:
    text = str(chat_id)
    return int(text) if text.lstrip("-").isdigit() else text


# -- who can be reached -----------------------------------------------------------------------------
class Reachability:
    """Marks a Telegram subscriber (un)reachable when the person blocks or unblocks the bot."""

    def __init__(self, sessions: Callable[[], Session], keyer: Callable[[str, str], str]) -> None:
        self._sessions = sessions
        self._keyer = keyer

    def key(self, user: str) -> str:
        """The subscriber key: the same keyed hash as Engine.conversation_key for a private chat."""
        return self._keyer("chat", f"telegram:{user}")

    def set(self, user: str, reachable: bool, error: str | None = None) -> bool:
        with self._sessions() as session:
            sub = SubscriberRepository(session).get(self.key(user))
            if sub is None:
                return False
            sub.reachable, sub.last_error = reachable, error
            session.commit()
        return True

    async def blocked(self, chat_id: str) -> None:
        await asyncio.to_thread(self.set, str(chat_id), False, "blocked")


# -- the push sender --------------------------------------------------------------------------------
class TelegramSender:
    """`Sender` for campaign pushes and office replies.

    RetryAfter → SendResult("retry", retry_after) and every later send returns "retry" without calling
    Telegram until that time has passed. Forbidden (blocked) or "chat not found" → "blocked", and the
    subscriber is marked unreachable through `on_blocked` (the caller need not mark it again).
    Several messages go in order; a failure part-way returns that failure (earlier ones were sent).
    """

    channel = "telegram"

    def __init__(self, token: str, api_base: str, *, rate: float = 30.0, pool: int = 16,
                 on_blocked: Callable[[str], Awaitable[None]] | None = None) -> None:
        self._token, self._api_base, self._rate, self._pool = token, api_base, rate, pool
        self._on_blocked = on_blocked
        self._resume_at = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ext: ExtBot[int] | None = None

    def _bot(self) -> ExtBot[int]:
        loop = asyncio.get_running_loop()
        if self._ext is None or self._loop is not loop:  # an HTTP pool belongs to one event loop
            self._loop = loop
            self._ext = make_bot(self._token, self._api_base, rate=self._rate, pool=self._pool)
        return self._ext

    async def send(self, chat_id: str, messages: Sequence[Outbound]) -> SendResult:
        wait = self._resume_at - time.monotonic()
        if wait > 0:
            return SendResult("retry", retry_after=round(wait, 3), error="RetryAfter")
        bot = self._bot()
        try:
            for out in messages:
                for text, markup in render(out):
                    await bot.send_message(chat_id=chat_ref(chat_id), text=text, reply_markup=markup)
        except RetryAfter as exc:
            wait = retry_seconds(exc)
            self._resume_at = max(self._resume_at, time.monotonic() + wait)
            return SendResult("retry", retry_after=wait, error="RetryAfter")
        except Forbidden:
            return await self._blocked(chat_id, "Forbidden")
        except BadRequest as exc:
            if "chat not found" in exc.message.lower():
                return await self._blocked(chat_id, "ChatNotFound")
            return SendResult("failed", error="BadRequest")
        except NetworkError as exc:  # includes TimedOut: the platform may not have it; try later
            return SendResult("retry", retry_after=5.0, error=type(exc).__name__)
        except TelegramError as exc:
            return SendResult("failed", error=type(exc).__name__)
        return SendResult("sent")

    async def _blocked(self, chat_id: str, code: str) -> SendResult:
        if self._on_blocked is not None:
            await self._on_blocked(str(chat_id))
        return SendResult("blocked", error=code)

    async def aclose(self) -> None:
        if self._ext is not None and self._loop is asyncio.get_running_loop():
            await self._ext.shutdown()
        self._ext = None
