"""Everything a campaign worker process needs (built once at start-up by bot.bootstrap.campaigns)."""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass

from bot.campaigns.config import CampaignConfig
from bot.campaigns.deliveries import DeliveryStore
from bot.campaigns.dispatch import AsyncRunner, Dispatcher
from bot.campaigns.service import CampaignService
from bot.channels.base import Sender


@dataclass
class Runtime:
    cfg: CampaignConfig
    senders: dict[str, Sender]
    redis_url: str
    worker_id: str
    campaigns: CampaignService
    store: DeliveryStore
    dispatcher: Dispatcher
    runner: AsyncRunner
    stop: threading.Event

    @property
    def channels(self) -> list[str]:
        return sorted(self.senders)

    def close(self) -> None:
        self.stop.set()
        for sender in self.senders.values():
            closer = getattr(sender, "aclose", None)
            if closer is not None:
                with contextlib.suppress(Exception):  # closing is best effort
                    self.runner.run(closer(), timeout=5)
        self.runner.close()
