"""The Telegram bot at work: a PTB Application fed by the webhook route or by polling.

Each update is handled once (de-duplicated by update_id across processes), translated to an Incoming,
answered through the engine, and the replies are sent with the Application's bot (AIORateLimiter).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

from telegram import BotCommand, ReplyParameters, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import Forbidden, TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes, ExtBot, JobQueue, TypeHandler

from bot.channels.telegram.dialogue import Reply, TelegramDialogue
from bot.channels.telegram.inbound import MAX_IMAGE_BYTES, Incoming, parse_update
from bot.channels.telegram.sender import (
    Reachability,
    api_urls,
    link_keyboard,
    make_bot,
    quiet_sdk_logs,
    render,
    webhook_secret,
)
from bot.channels.telegram.texts import COMMANDS
from bot.channels.telegram.validate import NotAnUpdate, validated_update

log = logging.getLogger(__name__)
T = TypeVar("T")
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
# What ApplicationBuilder builds with PTB's default context types and an AIORateLimiter on the bot
TelegramApp = Application[ExtBot[int], ContextTypes.DEFAULT_TYPE, dict[Any, Any], dict[Any, Any], dict[Any, Any],
                          JobQueue[ContextTypes.DEFAULT_TYPE]]


def bot_commands() -> list[BotCommand]:
    return [BotCommand(name, description) for name, description, _ in COMMANDS]


def build_application(settings: Any, *, polling: bool) -> TelegramApp:
    """PTB's Application; in webhook mode it has no Updater (the FastAPI route feeds it)."""
    base, files = api_urls(settings.telegram_api_base)
    builder = (ApplicationBuilder().token(settings.telegram_token).base_url(base).base_file_url(files)
               .rate_limiter(AIORateLimiter(max_retries=2)))
    if not polling:
        builder = builder.updater(None)
    quiet_sdk_logs()
    return builder.build()


class TelegramBot:
    """The update handler shared by webhook and polling mode."""

    def __init__(self, services: Any, application: TelegramApp) -> None:
        self.services = services
        self.app = application
        self.marks = Reachability(services.sessions, services.hasher.digest)
        self.failures = 0  # updates whose handling raised (logged, never answered): tests expect none
        application.add_handler(TypeHandler(Update, self.on_update))
        application.add_error_handler(self.on_error)

    async def on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.my_chat_member is not None:  # idempotent: no de-duplication needed
            await self._membership(update)
            return
        bot = self.app.bot
        inc = parse_update(update, bot.id, bot.username)
        if inc is None:  # silence (a group chat not addressed to the bot, an edit ...): nothing to record
            if update.callback_query is not None:
                await self._answer(update.callback_query.id)
            return
        if not await asyncio.to_thread(self.services.deduper.first_time, "telegram", str(update.update_id)):
            return
        if inc.callback_id is not None:
            await self._answer(inc.callback_id)
        dialogue = TelegramDialogue(self.services, bot.username, self._download)
        replies = await dialogue.respond(inc)
        try:
            await self._send(inc, replies)
        except Forbidden:  # the person blocked the bot meanwhile
            if inc.private:
                await self.marks.blocked(str(inc.chat_id))

    async def _answer(self, callback_id: str) -> None:
        """Stop the button's spinner at once; a query Telegram no longer knows is no reason to stop."""
        with contextlib.suppress(TelegramError):
            await self.app.bot.answer_callback_query(callback_id)

    async def _send(self, inc: Incoming, replies: list[Reply]) -> None:
        first = True
        for reply in replies:
            for text, markup in render(reply.outbound):
                quote = None
                if first and reply.quote and not inc.private and inc.message_id is not None:
                    quote = ReplyParameters(inc.message_id, allow_sending_without_reply=True)
                await self.app.bot.send_message(
                    inc.chat_id, text, reply_parameters=quote,
                    reply_markup=link_keyboard(*reply.link) if reply.link else markup)
                first = False

    async def _download(self, file_id: str) -> bytes | None:
        """The picture's bytes; None when Telegram will not give it (a stale or forged file_id, too large,
        the network): the engine then says the picture could not be read, or asks for it again in a tip."""
        try:
            file = await self.app.bot.get_file(file_id)
            if (file.file_size or 0) > MAX_IMAGE_BYTES:
                return None
            return bytes(await file.download_as_bytearray())
        except TelegramError as exc:
            log.warning("telegram picture not fetched", extra={"error_type": type(exc).__name__})
            return None

    async def _membership(self, update: Update) -> None:
        change = update.my_chat_member
        assert change is not None
        if change.chat.type != ChatType.PRIVATE:
            return
        status = change.new_chat_member.status
        if status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT):  # "kicked": the person blocked the bot
            await asyncio.to_thread(self.marks.set, str(change.chat.id), False, "blocked")
        elif status == ChatMemberStatus.MEMBER:
            await asyncio.to_thread(self.marks.set, str(change.chat.id), True, None)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A handler raised: logged (the error's type only) and counted; nothing is sent to the chat."""
        self.failed(context.error)

    def failed(self, error: BaseException | None) -> None:
        self.failures += 1
        log.error("telegram update failed", extra={"error_type": type(error).__name__})


class TelegramWebhook:
    """Webhook mode: started with the web app; the route checks the secret and calls `feed`."""

    def __init__(self, services: Any) -> None:
        self.secret = webhook_secret(services.settings)
        self.handler = TelegramBot(services, build_application(services.settings, polling=False))
        self.app = self.handler.app
        self.ready = False
        self._retry: asyncio.Task[None] | None = None

    def check_secret(self, header: str | None) -> bool:
        return header is not None and hmac.compare_digest(header.encode(), self.secret.encode())

    async def start(self, first_wait: float = 10.0) -> None:
        """Initialise (getMe); if Telegram is unreachable, keep trying in the background: the app starts."""
        try:
            await asyncio.wait_for(self._initialize(), first_wait)
        except (TelegramError, OSError, TimeoutError) as exc:
            log.warning("telegram not ready; retrying", extra={"error_type": type(exc).__name__})
            self._retry = asyncio.create_task(self._keep_trying())

    async def _initialize(self) -> None:
        await self.app.initialize()
        await self.app.start()
        self.ready = True

    async def _keep_trying(self, delay: float = 2.0) -> None:
        while not self.ready:
            await asyncio.sleep(delay)
            try:
                await self._initialize()
            except (TelegramError, OSError) as exc:
                log.warning("telegram not ready; retrying", extra={"error_type": type(exc).__name__})
                delay = min(delay * 2, 300.0)

    async def feed(self, data: dict[str, Any]) -> bool:
        """Handle one update as Telegram posted it; False when it is not a well-formed update.

        The update is checked before PTB builds it; whatever then fails in handling is logged and counted,
        and the update is still acknowledged (Telegram would only send it again)."""
        try:
            update = Update.de_json(validated_update(data), self.app.bot)
        except (NotAnUpdate, KeyError, TypeError, ValueError, AttributeError, OverflowError, OSError):
            return False  # OverflowError, OSError: a `date` beyond what datetime.fromtimestamp takes
        try:
            await self.app.process_update(update)
        except Exception as exc:  # outside the handlers (PTB's own bookkeeping): still no 500
            self.handler.failed(exc)
        return True

    async def stop(self) -> None:
        if self._retry is not None:
            self._retry.cancel()
        if self.ready:
            await self.app.stop()
            await self.app.shutdown()
            self.ready = False


async def run_polling(services: Any, *, stop: asyncio.Event | None = None, poll_timeout: float = 10.0) -> None:
    """Polling mode (no public URL): run until `stop` is set (or the task is cancelled)."""
    app = build_application(services.settings, polling=True)
    TelegramBot(services, app)
    stop = stop or asyncio.Event()
    async with app:
        await app.bot.set_my_commands(bot_commands())
        assert app.updater is not None
        await app.updater.start_polling(timeout=int(poll_timeout), allowed_updates=ALLOWED_UPDATES)
        await app.start()
        try:
            await stop.wait()
        finally:
            await app.updater.stop()
            await app.stop()


async def set_webhook(settings: Any, url: str, *, drop_pending: bool = False) -> str:
    """Register the webhook (with its secret) and the command menu; returns the bot's username."""
    secret = webhook_secret(settings)
    async with make_bot(settings.telegram_token, settings.telegram_api_base) as bot:
        await bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES,
                              drop_pending_updates=drop_pending)
        await bot.set_my_commands(bot_commands())
        return str(bot.username)


async def delete_webhook(settings: Any) -> None:
    async with make_bot(settings.telegram_token, settings.telegram_api_base) as bot:
        await bot.delete_webhook()


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
