"""The Telegram bot at work: a PTB Application fed by the webhook route or by polling.

Each update is handled once (de-duplicated by update_id across processes), translated to an Incoming,
answered through the engine, and the replies are sent with the Application's bot (AIORateLimiter).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session
from telegram import BotCommand, ReplyParameters, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import Forbidden, TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes, TypeHandler

from bot.channels.telegram.dialogue import Reply, TelegramDialogue
from bot.channels.telegram.inbound import MAX_IMAGE_BYTES, Incoming, parse_update
from bot.channels.telegram.sender import Reachability, api_urls, link_keyboard, quiet_sdk_logs, render
from bot.channels.telegram.texts import COMMANDS
from bot.channels.telegram.validate import NotAnUpdate, validated_update
from bot.dialogue.turns import TurnRunner
from bot.store.dedupe import InboundDeduper

log = logging.getLogger(__name__)
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]


def bot_commands() -> list[BotCommand]:
    return [BotCommand(name, description) for name, description, _ in COMMANDS]


@dataclass(frozen=True)
class TelegramParts:
    """What the bot needs of the rest of the app, wired by the bootstrap."""

    token: str
    api_base: str
    turns: TurnRunner
    sessions: Callable[[], Session]
    deduper: InboundDeduper
    marks: Reachability


def build_application(token: str, api_base: str, *, polling: bool) -> Application:  # type: ignore[type-arg]
    """PTB's Application; in webhook mode it has no Updater (the FastAPI route feeds it)."""
    base, files = api_urls(api_base)
    builder = (ApplicationBuilder().token(token).base_url(base).base_file_url(files)
               .rate_limiter(AIORateLimiter(max_retries=2)))
    if not polling:
        builder = builder.updater(None)
    quiet_sdk_logs()
    return builder.build()


class TelegramBot:
    """The update handler shared by webhook and polling mode."""

    def __init__(self, parts: TelegramParts, application: Application) -> None:  # type: ignore[type-arg]
        self.parts = parts
        self.app = application
        self.marks = parts.marks
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
        if not await asyncio.to_thread(self.parts.deduper.first_time, "telegram", str(update.update_id)):
            return
        if inc.callback_id is not None:
            await self._answer(inc.callback_id)
        dialogue = TelegramDialogue(self.parts.turns, self.parts.sessions, bot.username, self._download)
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

    def __init__(self, parts: TelegramParts, secret: str) -> None:
        self.secret = secret
        self.handler = TelegramBot(parts, build_application(parts.token, parts.api_base, polling=False))
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


async def run_polling(parts: TelegramParts, *, stop: asyncio.Event | None = None, poll_timeout: float = 10.0) -> None:
    """Polling mode (no public URL): run until `stop` is set (or the task is cancelled)."""
    app = build_application(parts.token, parts.api_base, polling=True)
    TelegramBot(parts, app)
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
