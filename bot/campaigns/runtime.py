"""Everything a campaign worker process needs, built once at start-up from Services and CampaignConfig."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.campaigns.config import CampaignConfig
from bot.campaigns.content import Library
from bot.campaigns.deliveries import DeliveryStore
from bot.campaigns.dispatch import AsyncRunner, Dispatcher
from bot.campaigns.limits import ChannelLimits, Pauses, make_backend
from bot.campaigns.quiet import QuietHours
from bot.campaigns.service import CampaignService

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
                           counties)


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
                            quiet=campaigns.quiet, max_attempts=cfg.max_attempts, stop=stop)
    return Runtime(services, cfg, worker_id, campaigns, store, dispatcher, runner, stop)
