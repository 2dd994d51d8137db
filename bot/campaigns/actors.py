"""The Dramatiq side: the broker (Redis, RabbitMQ, or in-process) and the dispatch actor.

Actors are registered on a broker made at start-up (no broker is made at import time). One message,
`drain(campaign_id, channel)`, means "work on this campaign's messages for this channel for a while";
each run hands over by enqueueing its successor, so many workers share a campaign and a stopped or
killed worker loses nothing (its rows stay pending, or in doubt until recovered).
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass

import dramatiq
from dramatiq.broker import Broker

from bot.campaigns.config import CampaignConfig
from bot.campaigns.runtime import Runtime

log = logging.getLogger(__name__)
QUEUE = "campaigns"


def make_broker(redis_url: str, cfg: CampaignConfig, *, embedded: bool = False) -> Broker:
    """RabbitMQ if configured, else Redis if configured, else (or when `embedded`) an in-process broker."""
    if not embedded and cfg.rabbitmq_url:
        try:
            from dramatiq.brokers.rabbitmq import RabbitmqBroker
        except ImportError as exc:  # pika is not a default dependency
            raise RuntimeError("RabbitMQ needs `pip install dramatiq[rabbitmq]`") from exc
        return RabbitmqBroker(url=cfg.rabbitmq_url)
    if not embedded and redis_url:
        from dramatiq.brokers.redis import RedisBroker

        return RedisBroker(url=redis_url, namespace=f"{cfg.redis_prefix}-dramatiq")
    from dramatiq.brokers.stub import StubBroker

    return StubBroker()


@dataclass
class Actors:
    broker: Broker
    drain: dramatiq.Actor[[int, str], None]

    def start_drains(self, campaign_id: int, channels: list[str], count: int) -> None:
        for channel in channels:
            for _ in range(count):
                self.drain.send(campaign_id, channel)


def register(broker: Broker, rt: Runtime) -> Actors:
    cfg = rt.cfg

    def drain(campaign_id: int, channel: str) -> None:
        """Send one campaign on one channel for a while, then hand over to a fresh message."""
        result = rt.dispatcher.run(campaign_id, channel, cfg.drain_seconds)
        if result.outcome in ("budget", "stopped"):
            actor.send(campaign_id, channel)
        elif result.outcome in ("later", "quiet"):
            delay = int((result.wake_in + random.uniform(0.05, 1.0)) * 1000)
            actor.send_with_options(args=(campaign_id, channel), delay=delay)
        elif result.outcome == "done":
            rt.campaigns.finish_if_done(campaign_id)
        if result.sent:
            log.info("campaign drain", extra={"campaign": campaign_id, "channel": channel, "sent": result.sent,
                                              "outcome": result.outcome})

    actor = dramatiq.actor(broker=broker, actor_name="fundguard_campaign_drain", queue_name=QUEUE,
                           max_retries=5, min_backoff=1000, max_backoff=30000,
                           time_limit=int((cfg.drain_seconds + 180) * 1000))(drain)
    return Actors(broker, actor)
