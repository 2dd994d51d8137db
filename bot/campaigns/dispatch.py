"""One dispatch run: take a rate slot, claim the next delivery, send it, mark it; until done or out of time."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Literal

from bot import metrics
from bot.campaigns.content import Library
from bot.campaigns.deliveries import Claim, DeliveryStore
from bot.campaigns.limits import ChannelLimits
from bot.campaigns.quiet import QuietHours
from bot.campaigns.service import CampaignService
from bot.campaigns.wechat_mass import MassRunner
from bot.channels.base import Sender, SendResult
from bot.messages import Outbound
from bot.store.models import utcnow

log = logging.getLogger(__name__)
Outcome = Literal["done", "later", "quiet", "budget", "stopped", "inactive"]
SEND_TIMEOUT = 60.0
# "retry" codes that mean the platform wants all sends to slow down (Telegram 429; WeChat busy, quota,
# too fast, an HTTP error status); other retries (a network error on one request) postpone that row only.
PLATFORM_SLOWDOWN = frozenset({None, "RetryAfter", "429", "-1", "45009", "45011", "http"})


class AsyncRunner:
    """One event loop thread per process: every send runs there (HTTP pools belong to one loop)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="campaign-sends", daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, SendResult], timeout: float = SEND_TIMEOUT) -> SendResult:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)


@dataclass
class RunResult:
    outcome: Outcome
    sent: int = 0
    wake_in: float = 0.0  # for "later" and "quiet": seconds until there is work again


class Dispatcher:
    def __init__(self, *, store: DeliveryStore, campaigns: CampaignService, library: Library,
                 senders: dict[str, Sender], limits: dict[str, ChannelLimits], runner: AsyncRunner,
                 unseal: Callable[[str], str], quiet: QuietHours, max_attempts: int = 3,
                 retry_base: float = 2.0, stop: threading.Event | None = None, mass: MassRunner | None = None,
                 subscribe: Sender | None = None) -> None:
        self.store, self.campaigns, self.library = store, campaigns, library
        self.senders, self.limits, self.runner = senders, limits, runner
        self._unseal, self.quiet, self.max_attempts = unseal, quiet, max_attempts
        self._retry_base = retry_base  # a failed send is tried again after retry_base ** attempts seconds
        self.stop = stop or threading.Event()
        self.mass = mass            # the 群发 path
        self.subscribe = subscribe  # the 订阅通知 path's sender (falls back to customer service)

    def run(self, campaign_id: int, channel: str, budget: float) -> RunResult:
        """Send this campaign's messages on `channel` for up to `budget` seconds."""
        campaign = self.campaigns.get(campaign_id)
        if campaign is None or campaign.status != "running" or channel not in self.senders:
            return RunResult("inactive")
        self.campaigns.touch_drained(campaign_id)
        path = campaign.wechat_path if channel == "wechat" else channel
        if (path == "mass" and self.mass is None) or (path == "subscribe" and self.subscribe is None):
            path = "service"  # no such API here (a test sender): customer-service messages
        if path == "mass" and self.mass is not None:
            if self.quiet.is_quiet(utcnow()):
                return RunResult("quiet", 0, (self.quiet.next_open(utcnow()) - utcnow()).total_seconds())
            outcome, wake_in = self.mass.run(campaign)
            return RunResult(outcome, 0, wake_in)
        sender = self.subscribe if path == "subscribe" and self.subscribe is not None else self.senders[channel]
        message = self.library.pieces[campaign.piece].render(channel, self.library.values)
        deadline = time.monotonic() + budget
        checked, sent = time.monotonic(), 0
        while True:
            if self.stop.is_set():
                return RunResult("stopped", sent)
            now = time.monotonic()
            if now >= deadline:
                return RunResult("budget", sent)
            if self.quiet.is_quiet(utcnow()):
                return RunResult("quiet", sent, (self.quiet.next_open(utcnow()) - utcnow()).total_seconds())
            if now - checked > 2.0:  # a cancelled campaign stops within seconds
                if not self.campaigns.is_running(campaign_id):
                    return RunResult("inactive", sent)
                checked = now
            if not self.limits[channel].acquire(self.stop, deadline):
                continue
            claim = self.store.claim_next(campaign_id, channel, window=path == "service")
            if claim is None:
                wake = self.store.next_wake(campaign_id, channel)
                if wake is None:
                    return RunResult("done", sent)
                wait = max(0.0, (wake - utcnow()).total_seconds())
                if wait > 1.0:
                    return RunResult("later", sent, wait)
                time.sleep(wait)
                continue
            sent += self._deliver(claim, channel, message, deadline, sender)

    def _deliver(self, claim: Claim, channel: str, message: Outbound, deadline: float, sender: Sender) -> int:
        limits = self.limits[channel]
        if not limits.acquire_chat(claim.subscriber_key, self.stop, deadline + 5.0):
            self.store.release(claim, count=False)
            return 0
        try:
            chat_id = str(self._unseal(claim.sealed_chat_id))
            result = self.runner.run(sender.send(chat_id, [message]))
        except TimeoutError:
            # the send may have reached the platform: never resend blindly
            self.store.finish(claim, "failed", "timeout")
            metrics.observe_push(channel, "timeout")
            log.warning("campaign send timed out", extra={"delivery": claim.delivery_id})
            return 0
        except Exception as exc:  # a sender must return a SendResult; anything else counts as failed
            result = SendResult("failed", error=type(exc).__name__)
        if result.via is None and result.status == "sent":
            result = SendResult("sent", via="service" if channel == "wechat" else channel)
        metrics.observe_push(channel, result.status)
        return self._record(claim, result, limits)

    def _record(self, claim: Claim, result: SendResult, limits: ChannelLimits) -> int:
        if result.status == "sent":
            if not self.store.finish(claim, "sent", via=result.via):
                log.warning("campaign claim lost", extra={"delivery": claim.delivery_id})
            return 1
        if result.status == "retry":
            wait = float(result.retry_after or 1.0)
            if result.error in PLATFORM_SLOWDOWN:
                limits.pause(wait)  # the platform asked everyone to wait: every worker honours it
            self.store.release(claim, after=wait, error=result.error, count=False)
        elif result.status in ("unreachable", "blocked"):
            self.store.finish(claim, result.status, result.error)
        elif claim.attempts < self.max_attempts:
            self.store.release(claim, after=self._retry_base ** claim.attempts, error=result.error)
        else:
            self.store.finish(claim, "failed", result.error)
        log.info("campaign send", extra={"delivery": claim.delivery_id, "status": result.status,
                                         "error": result.error})
        return 0
