"""Planning and dispatch with a fake Sender: targeting, exactly one message each, every SendResult handled."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.campaigns.deliveries import DeliveryStore
from bot.campaigns.limits import Pauses
from bot.campaigns.stats import campaign_stats
from bot.channels.base import SendResult
from bot.store.campaign_models import Delivery
from bot.store.models import Subscriber, utcnow
from tests.unit.test_campaign_fakes import make_world


@pytest.fixture
def world(tmp_path):
    w = make_world(tmp_path, channels=("telegram", "wechat"))
    yield w
    w.runner.close()
    w.services.db.dispose()


def states(world, campaign_id) -> dict[str, str]:
    with world.services.sessions() as s:
        rows = s.execute(select(Delivery.state, Delivery.error, Delivery.subscriber_id).where(
            Delivery.campaign_id == campaign_id)).all()
        return {str(sid): (state, error) for state, error, sid in rows}


def test_planning_targets_group_county_and_channel_and_happens_once(world):
    world.add("1", audience="elderly", county="hanbin")
    world.add("2", audience="elderly", county=None)          # citywide: gets county campaigns too
    world.add("3", audience="elderly", county="hanyin")
    world.add("4", audience="student", county="hanbin")
    world.add("5", audience="elderly", county="hanbin", channel="web")  # no push on the web
    world.add("6", audience="elderly", county="hanbin")
    world.unsubscribe("6")
    c = world.campaigns.create("elderly_family_help", counties=["hanbin"])
    assert c.audiences == ["elderly"]  # the piece's own readers by default
    assert world.campaigns.start(c.id, ["telegram", "wechat"]) == 3
    assert world.campaigns.start(c.id, ["telegram", "wechat"]) is None  # another worker got it first
    by_state = sorted(st for st, _ in states(world, c.id).values())
    assert by_state == ["pending", "pending", "unreachable"]
    s = campaign_stats(world.services.sessions, c.id)
    assert s.total.planned == 3 and s.total.not_reachable == 1
    assert s.by_county["hanbin"].planned == 2 and s.by_county["(全市)"].planned == 1


def test_each_subscriber_gets_exactly_one_message_and_stats_add_up(world):
    for i in range(30):
        world.add(str(i), audience=("elderly", "student", "public")[i % 3], county=("hanbin", "shiquan")[i % 2])
    cid = world.start()
    result = world.dispatcher().run(cid, "telegram", budget=10)
    assert result.outcome == "done" and result.sent == 30
    sender = world.senders["telegram"]
    assert set(sender.per_chat().values()) == {1} and len(sender.per_chat()) == 30
    out = sender.sent[0][1]
    assert out.text.startswith("【三个信号，辨出非法集资】") and out.buttons[-1].label == "退订推送"
    assert world.campaigns.finish_if_done(cid) and world.campaigns.get(cid).status == "done"
    s = campaign_stats(world.services.sessions, cid)
    assert (s.total.planned, s.total.sent, s.total.pending) == (30, 30, 0)
    assert s.by_audience["student"].sent == 10 and s.by_county["shiquan"].sent == 15


def test_two_dispatchers_never_send_the_same_delivery(world):
    for i in range(60):
        world.add(str(i))
    cid = world.start()
    a, b = world.dispatcher("wa"), world.dispatcher("wb")
    threads = [threading.Thread(target=d.run, args=(cid, "telegram", 10)) for d in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    counts = world.senders["telegram"].per_chat()
    assert len(counts) == 60 and set(counts.values()) == {1}


def test_retry_after_pauses_every_dispatcher_and_the_message_goes_once_later(world):
    world.add("1")
    world.add("2")
    world.senders["telegram"].script["1"] = [SendResult("retry", retry_after=0.6, error="RetryAfter")]
    cid = world.start()
    started = time.monotonic()
    d = world.dispatcher()
    assert d.run(cid, "telegram", budget=10).outcome == "done"
    assert time.monotonic() - started >= 0.55  # nothing was sent during the pause
    assert world.senders["telegram"].per_chat() == {"1": 1, "2": 1}
    assert world.senders["telegram"].attempts["1"] == 2


def test_a_network_error_postpones_only_that_message(world):
    world.add("1")
    world.add("2")
    world.senders["telegram"].script["1"] = [SendResult("retry", retry_after=0.8, error="TimedOut")]
    tried: list[tuple[str, float]] = []
    world.senders["telegram"].before_send = lambda chat: tried.append((chat, time.monotonic()))
    cid = world.start()
    assert world.dispatcher(pauses=Pauses()).run(cid, "telegram", budget=10).outcome == "done"
    assert [c for c, _ in tried] == ["1", "2", "1"]
    assert tried[1][1] - tried[0][1] < 0.5  # "2" was not held up by the 0.8 s wait of "1"
    assert tried[2][1] - tried[0][1] >= 0.75  # "1" itself waited
    assert world.senders["telegram"].per_chat() == {"1": 1, "2": 1}


def test_blocked_marks_the_subscriber_and_the_next_campaign_does_not_try(world):
    world.add("1")
    world.add("2")
    world.senders["telegram"].script["1"] = [SendResult("blocked", error="Forbidden")]
    first = world.start()
    world.dispatcher().run(first, "telegram", budget=10)
    with world.services.sessions() as s:
        sub = s.scalars(select(Subscriber).where(Subscriber.sealed_chat_id.is_not(None))).all()
        blocked = [x for x in sub if not x.reachable]
        assert len(blocked) == 1 and blocked[0].last_error == "Forbidden"
    second = world.start("public_report")
    world.dispatcher().run(second, "telegram", budget=10)
    assert world.senders["telegram"].attempts["1"] == 1  # never asked again
    s2 = campaign_stats(world.services.sessions, second)
    assert s2.total.not_reachable == 1 and s2.total.sent == 1


def test_failures_are_tried_again_up_to_the_limit(world):
    world.add("1")
    world.senders["telegram"].script["1"] = [SendResult("failed", error="BadRequest")] * 5
    cid = world.start()
    d = world.dispatcher(max_attempts=2, retry_base=0.0)
    d.run(cid, "telegram", budget=15)
    assert world.senders["telegram"].attempts["1"] == 2
    assert list(states(world, cid).values()) == [("failed", "BadRequest")]


def test_an_unsubscribe_during_the_campaign_is_honoured_before_the_next_send(world):
    for i in range(10):
        world.add(str(i))

    def leave_early(chat_id: str) -> None:
        if chat_id == "2":  # while "2" is being sent to, "7" unsubscribes
            world.unsubscribe("7")

    world.senders["telegram"].before_send = leave_early
    cid = world.start()
    world.dispatcher().run(cid, "telegram", budget=10)
    counts = world.senders["telegram"].per_chat()
    assert "7" not in counts and len(counts) == 9
    s = campaign_stats(world.services.sessions, cid)
    assert s.total.unsubscribed_before == 1 and s.total.unsubscribed_since == 1 and s.total.sent == 9


def test_wechat_sends_only_inside_the_48_hour_window(world):
    world.add("in", channel="wechat", last_interaction=utcnow() - timedelta(hours=47))
    world.add("out", channel="wechat", last_interaction=utcnow() - timedelta(hours=49))
    cid = world.start()
    world.dispatcher().run(cid, "wechat", budget=10)
    assert world.senders["wechat"].per_chat() == {"in": 1}
    assert sorted(states(world, cid).values()) == [("sent", None), ("unreachable", "window")]
    assert campaign_stats(world.services.sessions, cid).total.not_reachable == 1


@pytest.mark.parametrize("policy, state, in_doubt", [("resend", "pending", 1), ("skip", "failed", 1)])
def test_a_dead_workers_claim_is_recovered_as_in_doubt(world, policy, state, in_doubt):
    world.add("1")
    cid = world.start()
    dead = DeliveryStore(world.services.sessions, "dead-worker")
    dead.heartbeat("elsewhere", 99)
    claim = dead.claim_next(cid, "telegram")
    assert claim is not None
    alive = world.dispatcher("alive").store
    assert alive.recover(dead_after=30, policy=policy) == []  # its heartbeat is fresh: not in doubt yet
    with world.services.sessions() as s:  # the dead worker's heartbeat is now old
        from bot.store.campaign_models import CampaignWorker

        s.get(CampaignWorker, "dead-worker").seen_at = utcnow() - timedelta(minutes=5)
        s.commit()
    assert alive.recover(dead_after=30, policy=policy) == [cid]
    with world.services.sessions() as s:
        row = s.scalars(select(Delivery)).one()
        assert (row.state, row.in_doubt) == (state, in_doubt)
    assert dead.finish(claim, "sent") is False  # a late mark by the presumed-dead worker changes nothing


def test_quiet_hours_and_cancel_stop_a_run_without_sending(world):
    world.add("1")
    cid = world.start()
    assert world.dispatcher(quiet="00:00-23:59").run(cid, "telegram", budget=5).outcome == "quiet"
    assert world.campaigns.cancel(cid)
    assert world.dispatcher().run(cid, "telegram", budget=5).outcome == "inactive"
    assert world.senders["telegram"].sent == []


def test_a_claim_a_live_worker_lost_track_of_is_recovered_after_ten_minutes(world):
    world.add("1")
    cid = world.start()
    live = world.dispatcher("live").store
    claim = live.claim_next(cid, "telegram")
    assert claim is not None and live.recover(dead_after=30) == []
    with world.services.sessions() as s:
        s.get(Delivery, claim.delivery_id).claimed_at = utcnow() - timedelta(minutes=11)
        s.commit()
    assert live.recover(dead_after=30) == [cid]
    world.dispatcher().run(cid, "telegram", budget=5)
    assert world.senders["telegram"].per_chat() == {"1": 1}
