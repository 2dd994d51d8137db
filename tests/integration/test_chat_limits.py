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


def _redis_or_skip() -> str:
    import redis

    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    return url


def test_with_redis_two_workers_share_one_count(make_services, sqlite_url):  # type: ignore[no-untyped-def]
    import time
    import uuid

    url = _redis_or_skip()
    if time.time() % 60 > 45:  # the shared window is the clock's minute: start well inside one
        time.sleep(61 - time.time() % 60)
    user = "shared-" + uuid.uuid4().hex[:12]  # Redis is shared by parallel test runs: a user of its own
    svc = make_services(sqlite_url, chat_per_user_per_minute=3, chat_per_address_per_minute=0, redis_url=url)
    with TestClient(create_app(services=svc), raise_server_exceptions=False) as one, \
            TestClient(create_app(services=svc), raise_server_exceptions=False) as two:
        codes = [post(one, user).status_code, post(two, user).status_code, post(one, user).status_code,
                 post(two, user).status_code]
    svc.db.dispose()
    assert codes == [200, 200, 200, 429]  # one count for both apps (a per-process count would allow 4)


def test_with_redis_down_each_process_still_limits(make_services, sqlite_url):  # type: ignore[no-untyped-def]
    from tests.conftest import free_port

    svc = make_services(sqlite_url, chat_per_user_per_minute=2, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    with TestClient(create_app(services=svc), raise_server_exceptions=False) as c:
        assert [post(c, "no-redis").status_code for _ in range(3)] == [200, 200, 429]
    svc.db.dispose()
