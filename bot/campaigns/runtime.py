"""Everything a campaign worker process needs, built once at start-up from Services and CampaignConfig."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from bot.campaigns.config import CampaignConfig
from bot.campaigns.content import Library
from bot.campaigns.deliveries import DeliveryStore
from bot.campaigns.dispatch import AsyncRunner, Dispatcher
from bot.campaigns.limits import ChannelLimits, Pauses, make_backend
from bot.campaigns.quiet import QuietHours
from bot.campaigns.service import CampaignService
from bot.campaigns.wechat_mass import MassApi, MassRunner
from bot.campaigns.wechat_subscribe import SubscribeSender, parse_fields
from bot.campaigns.wechat_tags import TagApi, TagSync

if TYPE_CHECKING:
    from bot.bootstrap import Services


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


class PushApi(MassApi, TagApi, Protocol):  # bot.channels.wechat.push.WeChatPushApi
    pass


def wechat_push_api(services: Services) -> PushApi | None:
    """The WeChat sender's push API (群发 and tags), or None when WeChat is not configured."""
    make: Callable[[], PushApi] | None = getattr(services.senders.get("wechat"), "push_api", None)
    return make() if make is not None else None


def tag_sync(services: Services, cfg: CampaignConfig | None = None) -> TagSync | None:
    """The WeChat tag mirror, or None when WeChat is not configured."""
    cfg = cfg or CampaignConfig()
    api = wechat_push_api(services)
    if api is None:
        return None
    names = {o.code: o.area for o in services.offices.counties}
    return TagSync(services.sessions, api, services.drafts.decrypt_json, names=names,
                   rate=cfg.wechat_tag_rate)


def mass_runner(services: Services, cfg: CampaignConfig, library: Library) -> MassRunner | None:
    tags = tag_sync(services, cfg)
    api = wechat_push_api(services)
    if tags is None or api is None:
        return None
    thumb = Path(cfg.wechat_mass_thumb).read_bytes() if cfg.wechat_mass_thumb else None
    return MassRunner(services.sessions, api, tags, library, thumb=thumb)


def subscribe_sender(services: Services, cfg: CampaignConfig) -> SubscribeSender | None:
    client = services.senders.get("wechat")
    if client is None or not cfg.wechat_subscribe_template or not hasattr(client, "push_api"):
        return None
    hasher = services.hasher
    return SubscribeSender(services.sessions, client.push_api(), client,
                           keyer=lambda openid: hasher.digest("chat", f"wechat:{openid}"),
                           template=cfg.wechat_subscribe_template, fields=parse_fields(cfg.wechat_subscribe_fields),
                           long_term=cfg.wechat_subscribe_long_term, window_hours=cfg.wechat_window_hours)


@dataclass
class Runtime:
    services: Services
    cfg: CampaignConfig
    worker_id: str
    campaigns: CampaignService
    store: DeliveryStore
    dispatcher: Dispatcher
    runner: AsyncRunner
    stop: threading.Event

    @property
    def channels(self) -> list[str]:
        return sorted(self.services.senders)

    def close(self) -> None:
        self.stop.set()
        for sender in self.services.senders.values():
            closer = getattr(sender, "aclose", None)
            if closer is not None:
                with contextlib.suppress(Exception):  # closing is best effort
                    self.runner.run(closer(), timeout=5)
        self.runner.close()


def build_runtime(services: Services, cfg: CampaignConfig | None = None) -> Runtime:
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
                            limits=limits, runner=runner, unseal=services.drafts.decrypt_json,
                            quiet=campaigns.quiet, max_attempts=cfg.max_attempts, stop=stop,
                            mass=mass_runner(services, cfg, campaigns.library),
                            subscribe=subscribe_sender(services, cfg))
    return Runtime(services, cfg, worker_id, campaigns, store, dispatcher, runner, stop)
