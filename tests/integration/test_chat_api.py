"""POST /api/chat as shared/spec/chat-api.md says, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.store.models import Conversation, Subscriber
from bot.tips.ciphers import CHAT_IDS, use_cipher

FIELDS = {"replies", "topic", "intent", "confidence", "red_flags", "expects", "receipt", "basis"}  # basis: an extension


def say(client, user: str, text: str) -> dict:
    r = client.post("/api/chat", json={"user": user, "text": text})
    assert r.status_code == 200, r.text
    return r.json()


def text_of(body: dict) -> str:
    """Every reply of a turn, as one text."""
    return "\n".join(r["text"] for r in body["replies"])


def test_answers_a_plain_question_with_every_field(client):
    body = say(client, "u1", "啥叫非法集资")
    assert set(body) == FIELDS
    assert body["topic"] == "definition"
    assert body["red_flags"] == [] and body["expects"] is None and body["receipt"] is None
    assert 0 < body["confidence"] <= 1
    reply = body["replies"][0]
    assert "非法集资" in reply["text"] and "更多" in reply["text"]
    assert 2 <= len(reply["buttons"]) <= 4
    more = say(client, "u1", "更多")["replies"][0]["text"]  # the legal basis is one “更多” away
    assert "【依据】《防范和处置非法集资条例》第二条" in more


def test_a_follow_up_button_routes_to_its_topic(client, services):
    body = say(client, "u2", "啥叫非法集资")
    label = body["replies"][0]["buttons"][0]
    target = services.knowledge.button_map()[label]
    assert say(client, "u2", label)["topic"] == target


def test_more_gives_the_longer_answer_of_the_last_topic(client, services):
    first = say(client, "u3", "什么是非法集资")
    more = say(client, "u3", "更多")
    assert more["topic"] == first["topic"]
    assert more["replies"][0]["text"] == services.knowledge.more(first["topic"]).text


def test_traditional_characters_and_emoji_are_understood(client):
    assert say(client, "u4", "什麼是非法集資😟😟")["topic"] == "definition"


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"json": {"text": "你好"}}, 422),
        ({"json": {"user": "u1"}}, 422),
        ({"json": {"user": "bad user!", "text": "你好"}}, 422),
        ({"json": {"user": "x" * 65, "text": "你好"}}, 422),
        ({"json": {"user": "u1", "text": ""}}, 422),
        ({"json": {"user": "u1", "text": "   "}}, 422),
        ({"json": {"user": "u1", "text": "长" * 2001}}, 422),
        ({"json": {"user": 5, "text": "你好"}}, 422),
        ({"json": ["user", "text"]}, 422),
        ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 400),
        ({"content": b"user=u1&text=hi", "headers": {"content-type": "application/x-www-form-urlencoded"}}, 400),
        ({"content": b"\xff\xfe\x00", "headers": {"content-type": "application/json"}}, 400),
    ],
)
def test_bad_input_gets_a_clear_json_4xx(client, kwargs, status):
    r = client.post("/api/chat", **kwargs)
    assert r.status_code == status
    body = r.json()
    assert isinstance(body["error"], str) and body["error"]
    assert "Traceback" not in r.text


def test_json_sent_the_way_curl_d_sends_it_is_understood(client):
    # `curl -XPOST .../api/chat -d '{"user":"u1","text":"啥叫非法集资"}'` says form-urlencoded
    for content_type in ("application/x-www-form-urlencoded", "text/plain", None):
        headers = {"content-type": content_type} if content_type else {}
        r = client.post("/api/chat", content='{"user":"u1","text":"啥叫非法集资"}'.encode(), headers=headers)
        assert r.status_code == 200, r.text
        assert r.json()["topic"] == "definition"


def test_an_oversized_body_is_refused_before_parsing(client):
    r = client.post("/api/chat", content=b"{" + b" " * 300_000 + b"}", headers={"content-type": "application/json"})
    assert r.status_code == 413 and "too large" in r.json()["error"]


def test_subscribe_flow_stores_group_and_county_without_the_chat_id(client, services):
    body = say(client, "sub-user-7", "订阅")
    assert body["topic"] == "subscribe" and "老年人及家属" in body["replies"][0]["buttons"]
    body = say(client, "sub-user-7", "老年人及家属")
    assert "石泉县" in body["replies"][0]["buttons"]
    body = say(client, "sub-user-7", "石泉县")
    assert "订阅好了" in body["replies"][0]["text"]
    with services.uow() as uow:
        sub = uow.session.scalars(select(Subscriber)).one()
        assert (sub.audience, sub.county, sub.opted_in) == ("elderly", "shiquan", True)
        assert "sub-user-7" not in sub.sealed_chat_id and "sub-user-7" not in sub.key
        assert use_cipher(services.settings.secret_key, CHAT_IDS).decrypt_json(sub.sealed_chat_id) == "sub-user-7"
    assert say(client, "sub-user-7", "退订")["topic"] == "unsubscribe"
    with services.uow() as uow:
        assert uow.session.scalars(select(Subscriber)).one().opted_in is False


def test_a_county_said_when_subscribing_is_not_asked_again(client, services):
    say(client, "sub-user-8", "我想订阅你们的防骗提醒 我是石泉县的")
    body = say(client, "sub-user-8", "普通群众")
    assert "订阅好了" in body["replies"][0]["text"] and "石泉县" in body["replies"][0]["text"]
    with services.uow() as uow:
        assert uow.session.scalars(select(Subscriber)).one().county == "shiquan"


def test_a_question_inside_the_subscribe_flow_leaves_it_and_is_answered(client):
    say(client, "sub-user-8", "订阅")
    body = say(client, "sub-user-8", "我想问问养老公寓投资是不是非法集资")
    assert body["topic"] == "tactic_pension"


def test_conversation_state_survives_a_restart(make_services, db_url):
    from fastapi.testclient import TestClient

    from webhook.app import create_app

    first = make_services(db_url)
    with TestClient(create_app(services=first)) as c:
        say(c, "restart-user", "订阅")
        say(c, "restart-user", "大学生和应届毕业生")
    first.db.dispose()
    second = make_services(db_url)
    with TestClient(create_app(services=second)) as c:
        body = say(c, "restart-user", "汉阴县")
        assert "订阅好了" in body["replies"][0]["text"] and "汉阴县" in body["replies"][0]["text"]
    with second.uow() as uow:
        keys = [row.key for row in uow.session.scalars(select(Conversation))]
        assert all("restart-user" not in k for k in keys)
    second.db.dispose()


def test_security_headers_and_page(client):
    r = client.get("/")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY"
    assert "http://" not in r.text and "https://" not in r.text  # nothing from the internet
