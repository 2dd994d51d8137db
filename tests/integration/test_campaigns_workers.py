"""Two `fundguard worker` processes on real Redis share a campaign and one global rate limit."""

from __future__ import annotations

import pytest

from bot.campaigns.stats import campaign_stats
from tests.integration.test_campaign_harness import worker_pair  # noqa: F401 - a fixture


@pytest.fixture
def pair(worker_pair):  # noqa: F811
    worker_pair.fresh()
    return worker_pair


def max_in_window(times: list[float], window: float = 1.0) -> int:
    times, best, j = sorted(times), 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - window:
            j += 1
        best = max(best, i - j + 1)
    return best


def test_two_workers_share_one_campaign_and_send_each_message_once(pair):
    users = pair.subscribe(90)
    cid = pair.campaign()
    pair.wait_done(cid, timeout=60)
    per_chat = pair.per_chat()
    assert set(per_chat) == set(users) and set(per_chat.values()) == {1}
    by_worker: dict[int, int] = {}
    for d in pair.deliveries(cid):
        pid = int(d.claimed_by.split(":")[1])
        by_worker[pid] = by_worker.get(pid, 0) + 1
    assert set(by_worker) == {p.pid for p in pair.procs} and min(by_worker.values()) >= 10  # a real share each
    assert pair.tg.stats()["throttled"] == 0
    s = campaign_stats(pair.services.sessions, cid)
    assert (s.total.planned, s.total.sent, s.total.pending, s.total.in_doubt) == (90, 90, 0, 0)
    assert s.by_audience["student"].sent == 30 and s.by_county["hanyin"].sent == 30


def test_the_rate_limit_is_global_across_workers(pair):
    # The fake holds Telegram's limit as a token bucket: 30 a second, 30 in reserve. Each worker alone is
    # allowed 30 a second: if each counted only its own sends, together they would send 60 a second, empty
    # the bucket within about a second and get 429s. Sharing one limit in Redis, they get none.
    pair.subscribe(150, first=881000001)
    cid = pair.campaign()
    pair.wait_done(cid, timeout=60)
    times = sorted(c.at for c in pair.sent_ok())
    assert len(times) == 150 and len(pair.per_chat()) == 150
    assert pair.tg.stats()["throttled"] == 0
    assert times[-1] - times[0] >= 4.0  # 150 at 30 a second: 30 may go at once, the other 120 take 4 s
    for w in (1.0, 2.0, 3.0):  # the token-bucket bound: at most rate × w + reserve in any w seconds
        assert max_in_window(times, w) <= 30 * w + 30


def test_a_429_pauses_every_worker_for_retry_after_and_the_message_still_goes_once(pair):
    users = pair.subscribe(60, first=882000001)
    pair.tg.fail("sendMessage", 429, retry_after=2, times=1)
    cid = pair.campaign()
    pair.wait_done(cid, timeout=60)
    calls = pair.tg.calls("sendMessage")
    throttled = [c for c in calls if c.status == 429]
    assert len(throttled) == 1
    t429 = throttled[0].at
    during = [c for c in calls if c.status == 200 and t429 + 0.25 < c.at < t429 + 1.9]
    assert during == []  # neither worker sent while Telegram asked to wait
    assert any(c.at > t429 + 1.9 for c in calls)
    per_chat = pair.per_chat()
    assert set(per_chat) == set(users) and set(per_chat.values()) == {1}


def test_one_chat_gets_at_most_one_message_a_second(pair):
    users = pair.subscribe(12, first=883000001)
    first, second = pair.campaign("public_three_signs"), pair.campaign("public_report")
    pair.wait_done(first, timeout=60)
    pair.wait_done(second, timeout=60)
    by_chat: dict[str, list[float]] = {}
    for c in pair.sent_ok():
        by_chat.setdefault(str(c.params["chat_id"]), []).append(c.at)
    assert set(by_chat) == set(users)
    # both campaigns ran at once; the gaps come from the per-chat limiter shared in Redis
    for times in by_chat.values():
        assert len(times) == 2 and abs(times[1] - times[0]) >= 0.95
