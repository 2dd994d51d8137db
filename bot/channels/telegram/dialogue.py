"""One Telegram message → the engine → replies: commands mapped to the engine's words, groups kept safe.

    command ──(a flow is open and the command is not /cancel)──► engine("取消") first, then the command
    group   ──(a tip, a receipt, a subscription)──► "请私聊我" with a private-chat link; nothing typed is repeated
The engine stays unaware of Telegram: it only ever sees an Inbound.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from bot.channels.telegram import texts as T
from bot.channels.telegram.inbound import Incoming
from bot.dialogue.flows import PRIVATE_TOPICS, FlowSpec, opened_by_words
from bot.dialogue.turns import TurnRunner
from bot.messages import Button, Inbound, Outbound, Turn
from bot.store.subscribers import SubscriberRepository
from bot.textnorm import normalise
from bot.tips.receipts import canonical_receipt

START_PAYLOADS = {"report": T.REPORT, "status": T.ENGINE_TEXT["status"], "subscribe": T.SUBSCRIBE}


@dataclass(frozen=True)
class Reply:
    outbound: Outbound
    link: tuple[str, str] | None = None   # a URL button (label, url) in place of quick replies
    quote: bool = True                    # in a group: answer as a reply to the person's message


class TelegramDialogue:
    def __init__(self, turns: TurnRunner, sessions: Callable[[], Session], username: str,
                 download: Callable[[str], Awaitable[bytes | None]]) -> None:
        self.engine = turns
        self._sessions = sessions
        self.username = username
        self._download = download

    async def respond(self, inc: Incoming) -> list[Reply]:
        if inc.expired:
            return [Reply(Outbound(T.BUTTON_EXPIRED))]
        if inc.unsupported:
            return [Reply(Outbound(T.UNSUPPORTED))]
        if inc.image_too_big:
            return [Reply(Outbound(T.IMAGE_TOO_BIG))]
        if not inc.private and self._private_only(inc):
            return [self._private_hint(inc)]
        turns = await (self._command(inc) if inc.command is not None else self._message(inc))
        if not inc.private and any(t.topic in PRIVATE_TOPICS for t in turns if isinstance(t, Turn)):
            if await self._flow(inc) is not None:
                await self._ask(inc, T.CANCEL)  # leave nothing open in the group's conversation
            return [self._private_hint(inc)]
        return [r for t in turns for r in _replies(t)]

    # -- plain messages, photos, forwards, button presses -------------------------------------------
    async def _message(self, inc: Incoming) -> list[Turn | Reply]:
        # a photo is fetched wherever it is sent: evidence in a tip (sealed there), read for its text elsewhere
        media = await self._download(inc.image) if inc.image is not None else None
        kind = "image" if inc.image is not None else "text"
        return [await self._ask(inc, inc.text, kind=kind, media=media, forwarded=inc.forwarded)]

    # -- commands ----------------------------------------------------------------------------------
    async def _command(self, inc: Incoming) -> list[Turn | Reply]:
        name, arg = inc.command or "", inc.argument
        flow = await self._flow(inc)
        if name == "cancel":
            return [await self._ask(inc, T.CANCEL)] if flow else [Reply(Outbound(T.NOTHING_TO_CANCEL))]
        if name == "help":
            if flow:
                return [Reply(Outbound(T.HELP_IN_FLOW + T.HELP))]
            return [await self._ask(inc, T.ENGINE_TEXT["help"]), Reply(Outbound(T.HELP))]
        if name != "start" and name not in T.ENGINE_TEXT:
            return [Reply(Outbound(T.UNKNOWN_COMMAND + T.HELP))]
        # /unsubscribe stops the pushes in any state without dropping an open tip (the engine asks about it)
        out: list[Turn | Reply] = [await self._ask(inc, T.CANCEL)] if flow and name != "unsubscribe" else []
        if name == "start":
            return out + await self._start(inc, arg)
        if name == "status" and canonical_receipt(arg):
            return [*out, await self._ask(inc, arg)]
        if name == "check" and arg:
            return [*out, await self._ask(inc, arg, forwarded=True)]
        return [*out, await self._ask(inc, T.ENGINE_TEXT[name])]

    async def _start(self, inc: Incoming, payload: str) -> list[Turn | Reply]:
        if payload in START_PAYLOADS:
            return [await self._ask(inc, START_PAYLOADS[payload])]
        if await asyncio.to_thread(self._subscribed, inc):
            return [Reply(Outbound(T.WELCOME_BACK)), await self._ask(inc, T.ENGINE_TEXT["help"])]
        turn = await self._ask(inc, T.SUBSCRIBE)
        first = turn.replies[0] if turn.replies else Outbound("")
        offer = Outbound(first.text, (*first.buttons, Button(T.CANCEL)))  # subscribing is optional
        return [Reply(Outbound(T.WELCOME)), Reply(offer)]

    # -- what stays private (bot.dialogue.flows says which flows, and what opens them) ---------------
    def _private_only(self, inc: Incoming) -> bool:
        if inc.command is not None:
            return inc.command in T.PRIVATE_COMMANDS
        flow = self._opened(inc)
        return flow is not None and flow.private

    @staticmethod
    def _opened(inc: Incoming) -> FlowSpec | None:
        return opened_by_words(normalise(inc.text)) if inc.command is None else None

    def _private_hint(self, inc: Incoming) -> Reply:
        opened = self._opened(inc)
        tip = inc.command == "report" or (opened is not None and opened.name == "tip")
        url = f"https://t.me/{self.username}?start={'report' if tip else 'hi'}"
        return Reply(Outbound(T.PRIVATE_ONLY), link=(T.PRIVATE_BUTTON, url), quote=False)

    # -- the engine and the state it keeps -----------------------------------------------------------
    def _inbound(self, inc: Incoming, text: str, **kw: Any) -> Inbound:
        return Inbound(channel="telegram", user=inc.user, text=text, private=inc.private, **kw)

    async def _ask(self, inc: Incoming, text: str, **kw: Any) -> Turn:
        turn: Turn = await self.engine.handle(self._inbound(inc, text, **kw))
        return turn

    async def _flow(self, inc: Incoming) -> str | None:
        return await self.engine.open_flow(self._inbound(inc, ""))

    def _subscribed(self, inc: Incoming) -> bool:
        key = self.engine.conversation_key(self._inbound(inc, ""))
        with self._sessions() as session:
            sub = SubscriberRepository(session).get(key)
            return sub is not None and sub.opted_in


def _replies(item: Turn | Reply) -> list[Reply]:
    return [item] if isinstance(item, Reply) else [Reply(out) for out in item.replies]
