"""A campaign worker process: Dramatiq worker threads, a heartbeat, and a scheduler that starts due
campaigns, recovers claims of dead workers and keeps every running campaign moving.

With FUNDGUARD_REDIS_URL the broker and the rate limits live in Redis and any number of workers on any
number of machines share the work. Without it (the embedded default) the same actors run in this
process on Dramatiq's in-process StubBroker, with in-memory limits: run one worker only.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable

import dramatiq

from bot.campaigns.actors import Actors, make_broker, register
from bot.campaigns.runtime import Runtime
from bot.store.models import utcnow

log = logging.getLogger(__name__)


class Scheduler:
    """The periodic work of one worker (several workers may run it at once: every step is atomic)."""

    def __init__(self, rt: Runtime, actors: Actors) -> None:
        self.rt, self.actors = rt, actors
        self._tags: threading.Thread | None = None
        self._tags_at = 0.0

    def sync_tags(self) -> None:
        """Keep WeChat tags current (joins tagged, leavers untagged) in the background, every few minutes."""
        mass = self.rt.dispatcher.mass
        every = self.rt.cfg.wechat_tag_sync_seconds
        if mass is None or every <= 0 or (self._tags is not None and self._tags.is_alive()):
            return
        if time.monotonic() - self._tags_at < every:
            return
        self._tags_at = time.monotonic()

        def work() -> None:
            try:
                report = mass.tags.run(stop=self.rt.stop)
                if report.tagged or report.untagged:
                    log.info("wechat tags synced", extra={"tagged": report.tagged, "untagged": report.untagged})
            except Exception as exc:  # WeChat or the database away: the next round tries again
                log.warning("wechat tag sync failed", extra={"error_type": type(exc).__name__})

        self._tags = threading.Thread(target=work, name="wechat-tags", daemon=True)
        self._tags.start()

    def drains_for(self, campaign_id: int) -> None:
        channels = [c for c in self.rt.campaigns.open_channels(campaign_id) if c in self.rt.senders]
        self.actors.start_drains(campaign_id, channels, self.rt.cfg.drains)

    def resume(self) -> None:
        """At start-up: put actors on every running campaign (a crash may have lost queued messages)."""
        for campaign in self.rt.campaigns.running():
            self.rt.campaigns.touch_drained(campaign.id)
            self.drains_for(campaign.id)

    def tick(self) -> None:
        rt, cfg = self.rt, self.rt.cfg
        for campaign_id in rt.store.recover(cfg.dead_after, cfg.in_doubt):
            log.warning("campaign claims recovered from a dead worker", extra={"campaign": campaign_id})
            self.drains_for(campaign_id)
        for campaign_id in rt.campaigns.due():
            planned = rt.campaigns.start(campaign_id, rt.channels)
            if planned is not None:
                log.info("campaign started", extra={"campaign": campaign_id, "planned": planned})
                rt.campaigns.touch_drained(campaign_id)
                self.drains_for(campaign_id)
        self.sync_tags()
        quiet = rt.campaigns.quiet.is_quiet(utcnow())
        for campaign in rt.campaigns.running():
            if rt.campaigns.finish_if_done(campaign.id):
                log.info("campaign done", extra={"campaign": campaign.id})
            elif not quiet and rt.campaigns.touch_drained(campaign.id, stale_after=cfg.drain_seconds * 3):
                self.drains_for(campaign.id)  # nobody worked on it for a while: a message was lost


def _beat(rt: Runtime, stop: threading.Event) -> None:
    host, pid = socket.gethostname(), os.getpid()
    while not stop.is_set():
        try:
            rt.store.heartbeat(host, pid)
        except Exception as exc:  # the database may be briefly away; try again next beat
            log.warning("campaign heartbeat failed", extra={"error_type": type(exc).__name__})
        stop.wait(rt.cfg.heartbeat_seconds)


def run_worker(rt: Runtime, *, embedded: bool | None = None, until: Callable[[Runtime], bool] | None = None,
               install_signals: bool = True) -> None:
    """Run until SIGTERM/SIGINT (or until `until(runtime)` is true); stop gracefully."""
    cfg, redis_url = rt.cfg, rt.redis_url
    embedded = (not redis_url and not cfg.rabbitmq_url) if embedded is None else embedded
    broker = make_broker(redis_url, cfg, embedded=embedded)
    actors = register(broker, rt)
    scheduler = Scheduler(rt, actors)
    stopping = threading.Event()
    if install_signals:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stopping.set())
    rt.store.heartbeat(socket.gethostname(), os.getpid())
    beat = threading.Thread(target=_beat, args=(rt, stopping), name="campaign-heartbeat", daemon=True)
    beat.start()
    worker = dramatiq.Worker(broker, worker_threads=cfg.worker_threads)
    worker.queue_prefetch = cfg.worker_threads  # fetch only what our threads can run: share with others
    worker.start()
    log.info("campaign worker started", extra={"worker": rt.worker_id, "embedded": embedded,
                                               "channels": rt.channels, "threads": cfg.worker_threads})
    try:
        scheduler.resume()
        while not stopping.is_set():
            try:
                scheduler.tick()
            except Exception as exc:
                log.warning("campaign scheduler tick failed", extra={"error_type": type(exc).__name__})
            if until is not None and until(rt):
                break
            stopping.wait(cfg.tick_seconds)
    finally:
        stopping.set()
        rt.stop.set()  # running dispatches hand over and return within a moment
        worker.stop(timeout=int((cfg.drain_seconds + 30) * 1000))
        broker.close()
        rt.store.leave()
        rt.close()
        log.info("campaign worker stopped", extra={"worker": rt.worker_id})
