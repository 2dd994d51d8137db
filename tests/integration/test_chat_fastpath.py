"""POST /api/chat's fast path (webhook/chat.py ChatFastPath) answers exactly as the FastAPI route does.

The same bodies go to the app as served and to the same app without the fast path: status, body and headers
match, for well-formed messages (which the fast path answers itself) and for every kind of refused body (which
it hands on to the route). A well-formed message never reaches the route."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

import webhook.chat
from webhook.app import MAX_BODY, create_app
from webhook.chat import ChatFastPath

BODIES: list[tuple[str, bytes, str]] = [  # (what, body, content type)
    ("a question", json.dumps({"user": "U", "text": "什么是非法集资"}).encode(), "application/json"),
    ("a pitch", json.dumps({"user": "U", "text": "投十万每年返一万二 中不中"}, ensure_ascii=False).encode(),
     "application/json"),
    ("curl -d, form type", b'{"user": "U", "text": "\\u600e\\u4e48\\u4e3e\\u62a5"}',
     "application/x-www-form-urlencoded"),
    ("extra field", b'{"user": "U", "text": "hi", "lang": "zh"}', "application/json"),
    ("not JSON", b"user=U&text=hi", "application/x-www-form-urlencoded"),
    ("empty", b"", "application/json"),
    ("a list", b"[1, 2]", "application/json"),
    ("blank text", b'{"user": "U", "text": "   "}', "application/json"),
    ("no user", b'{"text": "hi"}', "application/json"),
    ("bad user id", b'{"user": "a b", "text": "hi"}', "application/json"),
    ("a number for text", b'{"user": "U", "text": 12}', "application/json"),
    ("too long", json.dumps({"user": "U", "text": "字" * 2001}).encode(), "application/json"),
    ("UTF-8 BOM", b'\xef\xbb\xbf{"user": "U", "text": "hi"}', "application/json"),
    ("not UTF-8", '{"user": "U", "text": "举报"}'.encode("gbk"), "application/json"),
    ("UTF-16", '{"user": "U", "text": "hi"}'.encode("utf-16"), "application/json"),
    ("truncated", b'{"user": "U", "text": "hi', "application/json"),
    ("deep nesting", b"[" * 5000 + b"]" * 5000, "application/json"),
]


@pytest.fixture
def apps(services) -> Iterator[tuple[TestClient, TestClient]]:  # type: ignore[no-untyped-def]
    served = create_app(services=services)
    plain = create_app(services=services)
    plain.user_middleware = [m for m in plain.user_middleware if m.cls is not ChatFastPath]
    assert len(plain.user_middleware) == len(served.user_middleware) - 1
    with TestClient(served, raise_server_exceptions=False) as a, TestClient(plain, raise_server_exceptions=False) as b:
        yield a, b


@pytest.mark.parametrize(("what", "body", "kind"), BODIES, ids=[b[0] for b in BODIES])
def test_same_answer_with_and_without_the_fast_path(apps, what, body, kind) -> None:  # type: ignore[no-untyped-def]
    served, plain = apps
    # each app's person is new (they share one database): the same first message gets the same answer
    got = served.post("/api/chat", content=body.replace(b'"U"', b'"fast1"'), headers={"content-type": kind})
    want = plain.post("/api/chat", content=body.replace(b'"U"', b'"route1"'), headers={"content-type": kind})
    assert got.status_code == want.status_code, (what, got.text, want.text)
    assert got.json() == want.json(), what
    for header in ("content-type", "content-security-policy", "x-content-type-options", "x-frame-options"):
        assert got.headers.get(header) == want.headers.get(header), (what, header)
    assert got.status_code < 500, what


def test_a_message_skips_the_route_and_a_refused_body_reaches_it(apps, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    served, _ = apps
    seen: list[str] = []
    route_answer = webhook.chat.answer

    async def counting(state, body, address):  # type: ignore[no-untyped-def]
        seen.append(body.user)
        return await route_answer(state, body, address)

    calls: list[int] = []
    original = webhook.chat.ChatRequest.model_validate_json

    def validate(data, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(len(data))
        return original(data, *args, **kwargs)

    monkeypatch.setattr(webhook.chat, "answer", counting)
    monkeypatch.setattr(webhook.chat.ChatRequest, "model_validate_json", validate)
    ok = served.post("/api/chat", json={"user": "fast2", "text": "怎么举报"})
    assert ok.status_code == 200 and ok.json()["replies"], ok.text
    assert seen == ["fast2"] and len(calls) == 1  # checked once, by the fast path, and answered there
    bad = served.post("/api/chat", json={"user": "fast2", "text": ""})
    assert bad.status_code == 422
    assert seen == ["fast2"] and len(calls) == 2  # the route answered the refusal, from the same bytes


def test_the_body_limit_and_other_methods_still_apply(apps) -> None:  # type: ignore[no-untyped-def]
    served, plain = apps
    big = json.dumps({"user": "U", "text": "x" * (MAX_BODY + 10)}).encode()
    for client in (served, plain):
        assert client.post("/api/chat", content=big, headers={"content-type": "application/json"}).status_code == 413
        chunked = client.post("/api/chat", content=iter([big[:MAX_BODY // 2], big[MAX_BODY // 2:]]),
                              headers={"content-type": "application/json"})
        assert chunked.status_code == 413
        assert client.get("/api/chat").status_code == 405
    slash = [c.post("/api/chat/", json={"user": "U", "text": "hi"}, follow_redirects=False) for c in (served, plain)]
    assert slash[0].status_code == slash[1].status_code == 307  # FastAPI's own redirect, as before
