"""Shared pieces for the campaign unit tests: a fake Sender, a small world of subscribers, a dispatcher."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from dramatiq.rate_limits.backends import StubBackend

from bot.bootstrap.campaigns import campaign_service
from bot.campaigns.deliveries import DeliveryStore
from bot.campaigns.dispatch import AsyncRunner, Dispatcher
from bot.campaigns.limits import ChannelLimits, Pauses
from bot.campaigns.quiet import QuietHours
from bot.campaigns.service import CampaignService
from bot.channels.base import Sender, SendResult
from bot.messages import Outbound
from bot.store.subscribers import SubscriberRepository


class FakeSender(Sender):
    """A Sender that records what it was asked to send; `script[chat_id]` lists results to return first."""

    def __init__(self, channel: str = "telegram") -> None:
        self.channel = channel
        self.sent: list[tuple[str, Outbound]] = []
        self.attempts: Counter[str] = Counter()
        self.script: dict[str, list[SendResult]] = {}
        self.before_send: Callable[[str], None] | None = None
        self._lock = threading.Lock()

    async def send(self, chat_id: str, messages: Sequence[Outbound]) -> SendResult:
        if self.before_send is not None:
            self.before_send(chat_id)
        with self._lock:
            self.attempts[chat_id] += 1
            queued = self.script.get(chat_id)
            if queued:
                return queued.pop(0)
            self.sent.extend((chat_id, m) for m in messages)
        return SendResult("sent")

    def per_chat(self) -> Counter[str]:
        return Counter(chat for chat, _ in self.sent)


@dataclass
class World:
    services: object
    campaigns: CampaignService
    senders: dict[str, FakeSender]
    runner: AsyncRunner
    stores: list[DeliveryStore] = field(default_factory=list)

    def add(self, user: str, *, channel: str = "telegram", audience: str = "public", county: str | None = None,
            last_interaction: datetime | None = None) -> str:
        svc = self.services
        key = svc.hasher.digest("chat", f"{channel}:{user}")  # type: ignore[attr-defined]
        with svc.uow() as uow:  # type: ignore[attr-defined]
            sub = SubscriberRepository(uow.session).subscribe(
                key, channel, svc.drafts.encrypt_json(user), audience, county)  # type: ignore[attr-defined]
            if last_interaction is not None:
                sub.last_interaction = last_interaction
            uow.commit()
        return key

    def unsubscribe(self, user: str, channel: str = "telegram") -> None:
        svc = self.services
        with svc.uow() as uow:  # type: ignore[attr-defined]
            SubscriberRepository(uow.session).unsubscribe(
                svc.hasher.digest("chat", f"{channel}:{user}"))  # type: ignore[attr-defined]
            uow.commit()

    def dispatcher(self, worker_id: str = "w1", *, quiet: str = "", rate: float = 1000.0, per_chat: int = 0,
                   max_attempts: int = 3, pauses: Pauses | None = None, retry_base: float = 2.0) -> Dispatcher:
        store = DeliveryStore(self.services.sessions, worker_id)  # type: ignore[attr-defined]
        store.heartbeat("test", 1)
        self.stores.append(store)
        backend = StubBackend()
        pauses = pauses or Pauses()
        limits = {ch: ChannelLimits(backend, pauses, "t", ch, rate=rate, burst=5, per_chat=per_chat)
                  for ch in self.senders}
        return Dispatcher(store=store, campaigns=self.campaigns, library=self.campaigns.library,
                          senders=dict(self.senders), limits=limits, runner=self.runner,
                          unseal=self.services.drafts.decrypt_json,  # type: ignore[attr-defined]
                          quiet=QuietHours(quiet), max_attempts=max_attempts, retry_base=retry_base)

    def start(self, piece: str = "public_three_signs", **kw: object) -> int:
        campaign = self.campaigns.create(piece, audiences=kw.pop("audiences", []), **kw)  # type: ignore[arg-type]
        assert self.campaigns.start(campaign.id, sorted(self.senders)) is not None
        return campaign.id


def make_world(tmp_path: Path, channels: Sequence[str] = ("telegram",)) -> World:
    from bot.bootstrap import bootstrap
    from bot.campaigns.config import CampaignConfig
    from bot.settings import Settings
    from bot.store.db import upgrade

    url = f"sqlite:///{tmp_path / 'campaigns.db'}"
    upgrade(url)
    settings = Settings(environment="test", data_dir=tmp_path / "data", database_url=url,
                        secret_key="test-secret-" + "x" * 40, kdf_strength="min")
    services = bootstrap(settings, with_engine=False)
    senders = {ch: FakeSender(ch) for ch in channels}
    services.senders = dict(senders)
    campaigns = campaign_service(services, CampaignConfig(quiet_hours=""))
    return World(services, campaigns, senders, AsyncRunner())
