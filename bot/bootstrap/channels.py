"""The channels: push senders, the WeChat gateway and the Telegram webhook, each given its parts.

Channel modules are imported inside the branch that needs them: a deployment without WeChat or Telegram
never loads their SDKs.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import Sender
from bot.dialogue.engine import Engine
from bot.dialogue.turns import TurnRunner
from bot.offices import OfficeDirectory
from bot.settings import Settings
from bot.store.dedupe import InboundDeduper
from bot.store.uow import UnitOfWork
from bot.tips.ciphers import SHARED_VALUES, KeyedHasher, use_cipher

if TYPE_CHECKING:
    from bot.channels.telegram.app import TelegramParts, TelegramWebhook
    from bot.channels.wechat.client import WeChatClient
    from bot.channels.wechat.gateway import WeChatGateway

log = logging.getLogger(__name__)


def build_senders(settings: Settings, sessions: sessionmaker[Session], hasher: KeyedHasher) -> dict[str, Sender]:
    """The push-capable channels that are configured, by name ("telegram", "wechat")."""
    senders: dict[str, Sender] = {}
    if settings.telegram_token:
        from bot.channels.telegram.sender import Reachability, TelegramSender

        marks = Reachability(sessions, hasher.digest)  # blocked people are marked unreachable
        senders["telegram"] = TelegramSender(settings.telegram_token, settings.telegram_api_base,
                                             on_blocked=marks.blocked)
    if settings.wechat_app_id:
        senders["wechat"] = wechat_client(settings, sessions, hasher)
    return senders


def wechat_client(settings: Settings, sessions: sessionmaker[Session], hasher: KeyedHasher) -> WeChatClient:
    from bot.channels.wechat.client import WeChatClient
    from bot.channels.wechat.store import SharedBox

    box = SharedBox(sessions, use_cipher(settings.secret_key, SHARED_VALUES))
    return WeChatClient(app_id=settings.wechat_app_id, app_secret=settings.wechat_app_secret,
                        api_base=settings.wechat_api_base, box=box, sessions=sessions,
                        keyer=lambda openid: hasher.digest("chat", f"wechat:{openid}"))


def build_wechat(settings: Settings, *, engine: Engine, turns: TurnRunner, sessions: sessionmaker[Session],
                 hasher: KeyedHasher, deduper: InboundDeduper, offices: OfficeDirectory,
                 client: Sender | None) -> WeChatGateway | None:
    """The /wechat callback's gateway; None when WeChat is not configured or misconfigured (logged)."""
    if not settings.wechat_token:
        return None
    from bot.channels.wechat.client import WeChatClient
    from bot.channels.wechat.dialogue import Memory, WeChatDialogue
    from bot.channels.wechat.gateway import WeChatGateway
    from bot.channels.wechat.menu import Menu
    from bot.channels.wechat.protocol import WeChatProtocol
    from bot.channels.wechat.store import SharedBox

    try:
        protocol = WeChatProtocol(settings.wechat_token, settings.wechat_app_id, settings.wechat_aes_key)
    except ValueError as exc:
        log.error("wechat misconfigured", extra={"error_type": type(exc).__name__})
        return None
    wechat = client if isinstance(client, WeChatClient) else None
    box = SharedBox(sessions, use_cipher(settings.secret_key, SHARED_VALUES))
    dialogue = WeChatDialogue(engine=engine, uow=lambda: UnitOfWork(sessions),
                              menu=Menu.load(settings.content_dir / "wechat_menu.yaml"),
                              memory=Memory(box, hasher.digest), client=wechat, office_name=offices.city.name)
    return WeChatGateway(protocol=protocol, dialogue=dialogue, turns=turns, box=box, deduper=deduper,
                         digest=hasher.digest, client=wechat, budget=settings.wechat_reply_budget)


def telegram_parts(settings: Settings, *, turns: TurnRunner, sessions: sessionmaker[Session],
                   hasher: KeyedHasher, deduper: InboundDeduper) -> TelegramParts:
    from bot.channels.telegram.app import TelegramParts
    from bot.channels.telegram.sender import Reachability

    return TelegramParts(token=settings.telegram_token, api_base=settings.telegram_api_base, turns=turns,
                         sessions=sessions, deduper=deduper, marks=Reachability(sessions, hasher.digest))


def build_telegram(settings: Settings, parts: TelegramParts | None) -> TelegramWebhook | None:
    """Webhook mode's runtime (started with the web app), or None without a token."""
    if parts is None:
        return None
    from bot.channels.telegram.app import TelegramWebhook
    from bot.channels.telegram.sender import webhook_secret

    return TelegramWebhook(parts, webhook_secret(settings))
