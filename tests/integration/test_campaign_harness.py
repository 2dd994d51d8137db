"""The campaign integration harness: a fake Bot API (real HTTP), PostgreSQL, real Redis, and real
`fundguard worker` processes that can be started, stopped and SIGKILLed. No tests in this module."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.store.campaign_models import Campaign, Delivery
from bot.store.subscribers import SubscriberRepository
from tests.fakes.telegram_api import FakeTelegram

REPO = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("FUNDGUARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
TOKEN = "123456:CAMPAIGN-test"
SECRET = "test-secret-" + "x" * 40


def redis_or_skip() -> object:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"Redis unreachable at {REDIS_URL} under CI: {exc}")
        pytest.skip(f"Redis unreachable ({type(exc).__name__}); skipped outside CI")
    return client


@dataclass
class Harness:
    url: str
    tmp: Path
    tg: FakeTelegram
    services: object
    prefix: str = field(default_factory=lambda: f"fgtest-{uuid.uuid4().hex[:10]}")
    procs: list[subprocess.Popen] = field(default_factory=list)

    def env(self, **cfg: object) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FUNDGUARD_")}
        env.update({
            "PYTHONPATH": str(REPO), "FUNDGUARD_ENVIRONMENT": "test", "FUNDGUARD_DATABASE_URL": self.url,
            "FUNDGUARD_SECRET_KEY": SECRET, "FUNDGUARD_KDF_STRENGTH": "min",
            "FUNDGUARD_DATA_DIR": str(self.tmp / "worker-data"), "FUNDGUARD_REDIS_URL": REDIS_URL,
            "FUNDGUARD_TELEGRAM_TOKEN": TOKEN, "FUNDGUARD_TELEGRAM_API_BASE": self.tg.base_url,
            "FUNDGUARD_LOG_LEVEL": "WARNING", "FUNDGUARD_CAMPAIGN_REDIS_PREFIX": self.prefix,
            "FUNDGUARD_CAMPAIGN_QUIET_HOURS": "", "FUNDGUARD_CAMPAIGN_TICK_SECONDS": "0.5",
            "FUNDGUARD_CAMPAIGN_HEARTBEAT_SECONDS": "0.5", "FUNDGUARD_CAMPAIGN_DEAD_AFTER": "3",
            "FUNDGUARD_CAMPAIGN_DRAIN_SECONDS": "5", "FUNDGUARD_CAMPAIGN_WORKER_THREADS": "2",
            "FUNDGUARD_CAMPAIGN_DRAINS": "4",
        })
        env.update({f"FUNDGUARD_CAMPAIGN_{k.upper()}": str(v) for k, v in cfg.items()})
        return env

    def worker(self, **cfg: object) -> subprocess.Popen:
        """Start `fundguard worker` as its own process (its log goes to the test's temporary folder)."""
        log = open(self.tmp / f"worker-{len(self.procs)}.log", "w")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "worker"], cwd=self.tmp, env=self.env(**cfg),
                                stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()

    def subscribe(self, n: int, first: int = 880000001, **kw: object) -> list[str]:
        svc = self.services
        users = [str(first + i) for i in range(n)]
        with svc.uow() as uow:  # type: ignore[attr-defined]
            repo = SubscriberRepository(uow.session)
            for i, user in enumerate(users):
                repo.subscribe(svc.hasher.digest("chat", f"telegram:{user}"), "telegram",  # type: ignore[attr-defined]
                               svc.drafts.encrypt_json(user), kw.get("audience") or ("elderly", "student",  # type: ignore[attr-defined]
                               "public")[i % 3], kw.get("county", ("hanbin", "hanyin", None)[i % 3]))
            uow.commit()
        return users

    def campaign(self, piece: str = "public_three_signs") -> int:
        from bot.bootstrap.campaigns import campaign_service
        from bot.campaigns.config import CampaignConfig

        return campaign_service(self.services, CampaignConfig(quiet_hours="")).create(piece, audiences=[]).id

    def status(self, campaign_id: int) -> str:
        with self.services.sessions() as s:  # type: ignore[attr-defined]
            return str(s.get(Campaign, campaign_id).status)

    def wait(self, predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                logs = "\n".join((self.tmp / f"worker-{i}.log").read_text()[-1500:] for i in range(len(self.procs)))
                raise AssertionError(f"timed out waiting for {what}; worker logs:\n{logs}")
            time.sleep(0.1)

    def wait_done(self, campaign_id: int, timeout: float = 60) -> None:
        self.wait(lambda: self.status(campaign_id) == "done", timeout, f"campaign {campaign_id} to finish")

    def sent_ok(self) -> list:  # type: ignore[type-arg]
        return [c for c in self.tg.calls("sendMessage") if c.status == 200]

    def per_chat(self) -> Counter[str]:
        return Counter(str(c.params["chat_id"]) for c in self.sent_ok())

    def deliveries(self, campaign_id: int) -> list[Delivery]:
        with self.services.sessions() as s:  # type: ignore[attr-defined]
            return list(s.scalars(select(Delivery).where(Delivery.campaign_id == campaign_id)))


    def chats(self, campaign_id: int) -> dict[int, tuple[str, Delivery]]:
        """Delivery id → (the subscriber's chat id, unsealed as a worker would, the row)."""
        from bot.store.models import Subscriber

        out: dict[int, tuple[str, Delivery]] = {}
        with self.services.sessions() as s:  # type: ignore[attr-defined]
            rows = s.execute(select(Delivery, Subscriber.sealed_chat_id).join(
                Subscriber, Subscriber.id == Delivery.subscriber_id).where(Delivery.campaign_id == campaign_id))
            for d, sealed in rows:
                out[d.id] = (str(self.services.drafts.decrypt_json(sealed)), d)  # type: ignore[attr-defined]
        return out

    def fresh(self) -> None:
        """Between tests sharing workers: earlier subscribers leave, the fake forgets its calls."""
        from sqlalchemy import update

        from bot.store.models import Subscriber

        with self.services.sessions() as s:  # type: ignore[attr-defined]
            s.execute(update(Subscriber).values(opted_in=False))
            s.commit()
        self.tg.reset()
        self.tg.state.rate = 30


def _cleanup(h: Harness, client: object) -> None:
    h.stop_all()
    h.services.db.dispose()  # type: ignore[attr-defined]
    for key in client.scan_iter(match=f"{h.prefix}*"):  # type: ignore[attr-defined]
        client.delete(key)  # type: ignore[attr-defined]


@pytest.fixture
def harness(make_services, postgres_url, tmp_path):  # type: ignore[no-untyped-def]
    """A fresh database and fake Bot API (30 a second); the test starts its own workers."""
    client = redis_or_skip()
    with FakeTelegram(token=TOKEN, rate=30) as tg:
        h = Harness(postgres_url, tmp_path, tg, make_services(postgres_url))
        try:
            yield h
        finally:
            _cleanup(h, client)


@pytest.fixture(scope="module")
def worker_pair(postgres_database, embedded_nlu, tmp_path_factory):  # type: ignore[no-untyped-def]
    """Two running workers shared by a module's tests (each test calls `fresh()` first)."""
    from bot.bootstrap import bootstrap
    from tests.conftest import _truncate_all, make_settings

    client = redis_or_skip()
    _truncate_all(postgres_database)
    tmp = tmp_path_factory.mktemp("campaign-workers")
    with FakeTelegram(token=TOKEN, rate=30) as tg:
        h = Harness(postgres_database, tmp, tg, bootstrap(make_settings(tmp, postgres_database), embedded=embedded_nlu))
        try:
            h.worker()
            h.worker()
            yield h
        finally:
            _cleanup(h, client)
