"""/metrics counts what happens where it happens: campaign pushes sent or refused, and errors answered."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import insert

from bot.bootstrap.campaigns import campaign_runtime, campaign_service
from bot.campaigns.config import CampaignConfig
from bot.campaigns.worker import run_worker
from bot.store.models import Subscriber, utcnow
from tests.integration.test_ops import _sample
from webhook.app import create_app

CFG = dict(quiet_hours="", tick_seconds=0.2, drains=1, worker_threads=1)


def _pushes(c: TestClient, status: str) -> float:
    return _sample(c.get("/metrics").text, "fundguard_pushes_total", channel="telegram", status=status)


def test_pushes_sent_and_refused_are_counted(make_services, sqlite_url, fake) -> None:  # type: ignore[no-untyped-def]
    fake.reset()
    svc = make_services(sqlite_url, telegram_token=fake.state.token or "123456:METRICS-test",
                        telegram_api_base=fake.base_url)
    now, users = utcnow(), ["880000001", "880000002", "880000003"]
    with svc.db.begin() as conn:
        conn.execute(insert(Subscriber), [
            {"key": svc.hasher.digest("chat", f"telegram:{u}"), "channel": "telegram",
             "sealed_chat_id": svc.drafts.encrypt_json(u), "audience": "elderly", "county": None, "opted_in": True,
             "reachable": True, "last_interaction": now, "created_at": now, "updated_at": now} for u in users])
    fake.state.blocked.add(users[2])  # this one blocked the bot: Telegram answers 403
    with TestClient(create_app(services=svc), raise_server_exceptions=False) as c:
        sent, blocked = _pushes(c, "sent"), _pushes(c, "blocked")
        cfg = CampaignConfig(**CFG)
        cid = campaign_service(svc, cfg).create("elderly_family_help").id
        run_worker(campaign_runtime(svc, cfg), until=lambda rt: rt.campaigns.get(cid).status == "done",
                   install_signals=False)
        assert (_pushes(c, "sent"), _pushes(c, "blocked")) == (sent + 2, blocked + 1)
    svc.db.dispose()


def test_errors_answered_are_counted_by_route_group_and_status(sqlite_client) -> None:  # type: ignore[no-untyped-def]
    def count(route: str, status: str) -> float:
        return _sample(sqlite_client.get("/metrics").text, "fundguard_http_errors_total", route=route, status=status)

    before = count("api", "400"), count("api", "422"), count("other", "404"), count("api", "413")
    assert sqlite_client.post("/api/chat", content=b"{not json", headers={"Content-Type": "application/json"}
                              ).status_code == 400
    assert sqlite_client.post("/api/chat", json={"user": "m"}).status_code == 422
    assert sqlite_client.get("/no-such-page/12345").status_code == 404
    assert sqlite_client.post("/api/chat", content=b"x" * 300_000,
                              headers={"Content-Type": "application/json"}).status_code == 413
    after = count("api", "400"), count("api", "422"), count("other", "404"), count("api", "413")
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1, 1, 1]
    assert "12345" not in sqlite_client.get("/metrics").text
