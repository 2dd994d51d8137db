"""The retention jobs, on a schedule while the app runs (started by its lifespan with `start_retention`).

Daily: closed tips past FUNDGUARD_TIP_RETENTION_DAYS, rate-limit and de-duplication rows, and subscribers'
chat ids still sealed under the key they once shared with drafts (sealed anew under their own). Every few
minutes: tip drafts idle past FUNDGUARD_DRAFT_TTL_MINUTES (they hold names and phones).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.settings import Settings
from bot.store.dedupe import InboundDeduper
from bot.store.models import Subscriber
from bot.store.ratelimit import RateLimiter
from bot.store.uow import UnitOfWork
from bot.tips.ciphers import CHAT_IDS, ReadsOlder, use_cipher
from bot.tips.drafts import purge_stale_drafts
from bot.tips.service import TipService


class Services(Protocol):  # what the jobs use of the composition root's services (bot.bootstrap.Services)
    @property
    def settings(self) -> Settings: ...
    @property
    def tips(self) -> TipService: ...
    @property
    def deduper(self) -> InboundDeduper: ...
    def uow(self) -> UnitOfWork: ...

log = logging.getLogger(__name__)
DAY = 24 * 3600.0


def purge_drafts(services: Services) -> int:
    """Erase the drafts idle past the draft TTL; how many."""
    with services.uow() as uow:
        n = purge_stale_drafts(uow.session, timedelta(minutes=services.settings.draft_ttl_minutes))
        uow.commit()
    return n


def reseal_chat_ids(session: Session, cipher: ReadsOlder) -> int:
    """Seal anew under their own key the chat ids sealed under the older one; how many."""
    n = 0
    for sub in session.scalars(select(Subscriber)):
        fresh = cipher.reseal(sub.sealed_chat_id)
        if fresh is not None:
            sub.sealed_chat_id, n = fresh, n + 1
    return n


def purge_expired(services: Services) -> int:
    """The daily round: closed tips past retention (how many), old rows, chat ids under the older key."""
    with services.uow() as uow:
        n = services.tips.purge_closed(uow.session, timedelta(days=services.settings.tip_retention_days))
        RateLimiter(uow.session).prune(timedelta(days=2))
        services.deduper.prune(uow.session)
        resealed = reseal_chat_ids(uow.session, use_cipher(services.settings.secret_key, CHAT_IDS))
        uow.commit()
    if n:
        log.info("purged closed tips", extra={"count": n})
    if resealed:
        log.info("chat ids sealed under their own key", extra={"count": resealed})
    return n


async def _every(job: Callable[[], int], every: float, first: float, name: str) -> None:
    """Run `job` in a thread every `every` seconds after `first`; a failure waits for the next round."""
    await asyncio.sleep(first)
    while True:
        try:
            await asyncio.to_thread(job)
        except Exception as exc:  # keep the schedule alive; the next run tries again
            log.warning("%s failed", name, extra={"error_type": type(exc).__name__})
        await asyncio.sleep(every)


@dataclass
class RetentionJobs:
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def stop(self) -> None:
        for task in self.tasks:
            task.cancel()


def start_retention(services: Services) -> RetentionJobs:
    """Start the retention jobs on the running event loop; `stop()` them at shutdown."""
    ttl = timedelta(minutes=services.settings.draft_ttl_minutes).total_seconds()
    return RetentionJobs([
        asyncio.create_task(_every(lambda: purge_expired(services), DAY, 60.0, "housekeeping")),
        asyncio.create_task(_every(lambda: purge_drafts(services), max(30.0, min(300.0, ttl / 6)), 0.0,
                                   "draft purge")),
    ])
