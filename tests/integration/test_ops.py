"""Readiness and Prometheus metrics: true state, closed label sets, nothing about people."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import free_port
from webhook.app import create_app


def test_readyz_reports_database_and_nlu(client) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/readyz")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ready" and body["database"] == "ok"
    assert body["nlu"]["backend"] == "embedded"
    assert "redis" not in body  # not configured on the embedded default


def test_readyz_is_unready_when_redis_is_down(make_services, sqlite_url) -> None:  # type: ignore[no-untyped-def]
    services = make_services(sqlite_url, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    with TestClient(create_app(services=services), raise_server_exceptions=False) as c:
        r = c.get("/readyz")
    services.db.dispose()
    assert r.status_code == 503
    assert r.json()["redis"].startswith("error: ") and r.json()["database"] == "ok"


def test_readyz_checks_a_live_redis(make_services, sqlite_url) -> None:  # type: ignore[no-untyped-def]
    services = make_services(sqlite_url, redis_url="redis://127.0.0.1:6379/0")
    with TestClient(create_app(services=services), raise_server_exceptions=False) as c:
        r = c.get("/readyz")
    services.db.dispose()
    assert r.status_code == 200 and r.json()["redis"] == "ok"


def _sample(text: str, name: str, **labels: str) -> float:
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith(f"{name}{{{want}}} "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_messages_by_channel_and_topic_without_text_or_ids(sqlite_client) -> None:  # type: ignore[no-untyped-def]
    before = _sample(sqlite_client.get("/metrics").text, "fundguard_messages_total", channel="web", topic="definition")
    for user in ("metrics-user-XYZ1", "metrics-user-XYZ2"):
        r = sqlite_client.post("/api/chat", json={"user": user, "text": "非法集资到底是啥意思"})
        assert r.json()["topic"] == "definition"
    body = sqlite_client.get("/metrics").text
    assert _sample(body, "fundguard_messages_total", channel="web", topic="definition") == before + 2
    assert _sample(body, "fundguard_nlu_parses_total", backend="embedded") >= 2
    assert 'fundguard_turn_seconds_bucket{channel="web"' in body
    assert "XYZ" not in body and "非法集资" not in body


def test_metrics_count_tips_by_urgency(sqlite_client) -> None:  # type: ignore[no-untyped-def]
    before = _sample(sqlite_client.get("/metrics").text, "fundguard_tips_filed_total", urgent="yes")
    steps = ["我要举报", "石泉县", "某某养老合作社", "说投十万每月返三千，已经跑路了", "两百万", "200人", "跳过",
             "匿名", "确认"]
    last = {}
    for text in steps:
        last = sqlite_client.post("/api/chat", json={"user": "tipster-m", "text": text}).json()
    assert last["receipt"]
    assert _sample(sqlite_client.get("/metrics").text, "fundguard_tips_filed_total", urgent="yes") == before + 1


def test_metrics_token_is_enforced_when_set(make_services, sqlite_url) -> None:  # type: ignore[no-untyped-def]
    services = make_services(sqlite_url, metrics_token="s3cret-token")
    with TestClient(create_app(services=services), raise_server_exceptions=False) as c:
        assert c.get("/metrics").status_code == 401
        assert c.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        ok = c.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
    services.db.dispose()
    assert ok.status_code == 200 and "fundguard_messages_total" in ok.text
