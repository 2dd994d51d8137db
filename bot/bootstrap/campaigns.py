"""The campaign side, built from the app's parts and a CampaignConfig (the CLI and the worker process)."""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from bot.campaigns.config import CampaignConfig
from bot.campaigns.content import Library
from bot.campaigns.deliveries import DeliveryStore
from bot.campaigns.dispatch import AsyncRunner, Dispatcher
from bot.campaigns.limits import ChannelLimits, Pauses, make_backend
from bot.campaigns.quiet import QuietHours
from bot.campaigns.runtime import Runtime
from bot.campaigns.service import CampaignService
from bot.campaigns.wechat_mass import MassRunner
from bot.campaigns.wechat_subscribe import SubscribeSender, parse_fields
from bot.campaigns.wechat_tags import TagSync
from bot.tips.ciphers import CHAT_IDS, use_cipher

if TYPE_CHECKING:
    from bot.bootstrap import Services
    from bot.channels.wechat.client import WeChatClient


def load_library(services: Services) -> Library:
    city = services.offices.city
    values = {"city_office": city.name, "city_phone": city.contacts.phone}
    return Library.load(services.settings.content_dir, values)


def campaign_service(services: Services, cfg: CampaignConfig | None = None) -> CampaignService:
    cfg = cfg or CampaignConfig()
    counties = [o.code for o in services.offices.counties]
    return CampaignService(services.sessions, load_library(services), QuietHours(cfg.quiet_hours, cfg.timezone),
                           counties, mass_quota=cfg.wechat_mass_quota, repeat_days=cfg.repeat_days,
                           default_path=cfg.wechat_path)


def _wechat(services: Services) -> WeChatClient | None:
    sender = services.senders.get("wechat")
    return sender if sender is not None and hasattr(sender, "push_api") else None  # type: ignore[return-value]


def tag_sync(services: Services, cfg: CampaignConfig | None = None) -> TagSync | None:
    """The WeChat tag mirror, or None when WeChat is not configured."""
    cfg = cfg or CampaignConfig()
    client = _wechat(services)
    if client is None:
        return None
    names = {o.code: o.area for o in services.offices.counties}
    return TagSync(services.sessions, client.push_api(), chat_ids(services.settings.secret_key), names=names,
                   rate=cfg.wechat_tag_rate)


def mass_runner(services: Services, cfg: CampaignConfig, library: Library) -> MassRunner | None:
    client, tags = _wechat(services), tag_sync(services, cfg)
    if client is None or tags is None:
        return None
    thumb = Path(cfg.wechat_mass_thumb).read_bytes() if cfg.wechat_mass_thumb else None
    return MassRunner(services.sessions, client.push_api(), tags, library, thumb=thumb)


def subscribe_sender(services: Services, cfg: CampaignConfig) -> SubscribeSender | None:
    client = _wechat(services)
    if client is None or not cfg.wechat_subscribe_template:
        return None
    hasher = services.hasher
    return SubscribeSender(services.sessions, client.push_api(), client,
                           keyer=lambda openid: hasher.digest("chat", f"wechat:{openid}"),
                           template=cfg.wechat_subscribe_template, fields=parse_fields(cfg.wechat_subscribe_fields),
                           long_term=cfg.wechat_subscribe_long_term, window_hours=cfg.wechat_window_hours)


def campaign_runtime(services: Services, cfg: CampaignConfig | None = None) -> Runtime:
    """Everything a campaign worker process needs, built once at its start-up."""
    cfg = cfg or CampaignConfig()
    worker_id = f"{socket.gethostname()[:24]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    campaigns = campaign_service(services, cfg)
    store = DeliveryStore(services.sessions, worker_id, window_hours=cfg.wechat_window_hours)
    backend, client = make_backend(services.settings.redis_url)
    pauses = Pauses(client, cfg.redis_prefix)
    rates = {"telegram": cfg.telegram_rate, "wechat": cfg.wechat_rate}
    limits = {ch: ChannelLimits(backend, pauses, cfg.redis_prefix, ch, rate=rates.get(ch, 10.0), burst=cfg.burst,
                                per_chat=cfg.per_chat_seconds) for ch in services.senders}
    runner = AsyncRunner()
    stop = threading.Event()
    dispatcher = Dispatcher(store=store, campaigns=campaigns, library=campaigns.library, senders=services.senders,
                            limits=limits, runner=runner, unseal=chat_ids(services.settings.secret_key),
                            quiet=campaigns.quiet, max_attempts=cfg.max_attempts, stop=stop,
                            mass=mass_runner(services, cfg, campaigns.library),
                            subscribe=subscribe_sender(services, cfg))
    return Runtime(cfg, services.senders, services.settings.redis_url, worker_id, campaigns, store, dispatcher,
                   runner, stop)


def chat_ids(secret: str) -> Callable[[str], str]:
    """Opens a subscriber's sealed chat id (its own key; ids sealed before it had one still open)."""
    cipher = use_cipher(secret, CHAT_IDS)
    return lambda sealed: str(cipher.decrypt_json(sealed))
