"""POST /api/chat refuses a flood with a clear 429: per user id and per client address."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from webhook.app import create_app
from webhook.limits import SlidingWindow


@pytest.fixture
def limited(make_services, sqlite_url):  # type: ignore[no-untyped-def]
    svc = make_services(sqlite_url, chat_per_user_per_minute=5, chat_per_address_per_minute=8)
    with TestClient(create_app(services=svc), raise_server_exceptions=False) as c:
        yield c
    svc.db.dispose()


def post(client: TestClient, user: str, text: str = "你好"):  # type: ignore[no-untyped-def]
    return client.post("/api/chat", json={"user": user, "text": text})


def test_one_user_flooding_gets_a_429_in_chinese_and_others_still_get_answers(limited):
    assert [post(limited, "flooder").status_code for _ in range(5)] == [200] * 5
    refused = post(limited, "flooder")
    assert refused.status_code == 429
    body = refused.json()
    assert "太快" in body["detail"] and body["error"] == body["detail"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert post(limited, "neighbour").status_code == 200


def test_many_user_ids_from_one_address_hit_the_address_limit(limited):
    codes = [post(limited, f"id{i}").status_code for i in range(9)]
    assert codes == [200] * 8 + [429]


def test_a_refused_message_is_not_answered_or_stored(limited):
    for _ in range(5):
        post(limited, "quiet")
    assert post(limited, "quiet", "我要举报").status_code == 429
    # The refused 我要举报 never reached the engine: no tip flow was started for this user.
    limited.app.state.chat_limits.users.limit = 0  # lift the limit to look
    after = post(limited, "quiet", "平利县")
    assert after.status_code == 200 and after.json()["expects"] is None  # not "subject"


def test_the_window_slides():
    now = [0.0]
    window = SlidingWindow(3, 60, clock=lambda: now[0])
    for t in (0, 10, 20):
        now[0] = t
        assert window.wait("k") == 0
        window.hit("k")
    now[0] = 30
    assert window.wait("k") == pytest.approx(30)  # the hit at 0 leaves at 60
    now[0] = 60
    assert window.wait("k") == 0
    assert SlidingWindow(0).wait("k") == 0  # 0: no limit
