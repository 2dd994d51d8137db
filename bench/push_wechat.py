"""The WeChat half of bench/push.py: time to tag N subscribers (one group tag each, one county tag for
those who named a county) in batches of 50 openids, paced to the configured rate, against the fake
WeChat API on localhost; then a second sync (nothing to do) and one 群发 per group tag.

    .venv/bin/python bench/push.py --wechat-tags 100000 [--tag-rate 50]
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import insert

APP_ID, APP_SECRET = "wxbenchpush00001", "bench-wechat-secret"
GROUPS = ("elderly", "student", "finance_staff", "civil_servant", "public")


def add_wechat_subscribers(services: Any, n: int) -> None:
    from bot.store.models import Subscriber, utcnow

    counties = [o.code for o in services.offices.counties] + [None]
    now = utcnow()
    with services.db.begin() as conn:
        for start in range(0, n, 5000):
            rows = [{"key": services.hasher.digest("chat", f"wechat:o{i:027d}"), "channel": "wechat",
                     "sealed_chat_id": services.drafts.encrypt_json(f"o{i:027d}"), "audience": GROUPS[i % 5],
                     "county": counties[i % len(counties)], "opted_in": True, "reachable": True,
                     "last_interaction": now, "created_at": now, "updated_at": now}
                    for i in range(start, min(n, start + 5000))]
            conn.execute(insert(Subscriber), rows)


def run_tags(n: int, rate: float, postgres: str, tmp: str, secret: str) -> dict[str, Any]:
    from bench.push import drop_database, fresh_database
    from bot.bootstrap import bootstrap
    from bot.bootstrap.campaigns import campaign_service, mass_runner, tag_sync
    from bot.campaigns.config import CampaignConfig
    from bot.settings import Settings
    from tests.fakes.wechat_api import FakeWeChatAPI

    url = fresh_database(postgres)
    try:
        with FakeWeChatAPI(APP_ID, APP_SECRET) as api:
            api.requests = _Counter()  # 4,000+ calls: keep counts, not bodies
            settings = Settings(environment="test", data_dir=Path(tmp) / f"wx-{uuid.uuid4().hex[:6]}",
                                database_url=url, secret_key=secret, kdf_strength="min", wechat_app_id=APP_ID,
                                wechat_app_secret=APP_SECRET, wechat_api_base=api.base_url, wechat_token="benchtok")
            services = bootstrap(settings, with_engine=False)
            t = time.monotonic()
            add_wechat_subscribers(services, n)
            print(f"[wechat] {n} subscribers in {time.monotonic() - t:.1f}s", flush=True)
            cfg = CampaignConfig(quiet_hours="", wechat_tag_rate=rate)
            sync = tag_sync(services, cfg)
            assert sync is not None
            report = sync.run()
            again = sync.run()
            tagged = sum(len(m) for m in api.push.members.values())
            service = campaign_service(services, cfg)
            campaign = service.create("public_three_signs", audiences=[], wechat_path="mass")
            service.start(campaign.id, ["wechat"])
            t = time.monotonic()
            outcome = mass_runner(services, cfg, service.library).run(service.get(campaign.id))  # type: ignore[union-attr, arg-type]
            mass_seconds = time.monotonic() - t
            services.db.dispose()
            return {"subscribers": n, "tag_rate_per_s": rate, "tag_calls": report.calls,
                    "taggings": report.tagged, "tagged_on_fake": tagged, "seconds": round(report.seconds, 1),
                    "taggings_per_s": round(report.tagged / report.seconds, 1) if report.seconds else None,
                    "second_sync_calls": again.calls, "second_sync_seconds": round(again.seconds, 1),
                    "mass_sends": len(api.push.jobs), "mass_outcome": outcome[0],
                    "mass_seconds_incl_tag_check": round(mass_seconds, 1),
                    "api_calls_by_endpoint": dict(api.requests.counts)}
    finally:
        drop_database(postgres, url)


class _Counter(list):  # type: ignore[type-arg]
    def __init__(self) -> None:
        super().__init__()
        self.counts: dict[str, int] = {}

    def append(self, record: Any) -> None:  # type: ignore[override]
        self.counts[record.endpoint] = self.counts.get(record.endpoint, 0) + 1
