"""WeChat's five seconds and its retries: slow answers, retried and concurrent deliveries, a whole tip.

Slowness comes from `SlowNLU`, a fake of our own NLU interface that waits before parsing; the
reply budget is shortened (the production default is 4 s) so the tests stay fast.
"""

from __future__ import annotations

import base64
import re
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.messages import Inbound
from bot.store.models import Conversation, Tip, TipSeal
from bot.tips.flow import PROMPTS
from bot.tips.keys import DEV_PASSPHRASE, unlock
from nlu.base import Parse
from tests.integration import test_wechat as base

USER = base.USER
api, open_wechat = base.api, base.open_wechat  # the fixtures, shared

QUESTION = "我妈投了养老项目现在联系不上了怎么办"


class SlowNLU:
    """The embedded NLU behind a delay; counts its calls (shared by every app that uses it)."""

    name = "slow"

    def __init__(self, inner, delay: float) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.delay, self.calls = inner, delay, 0
        self._lock = threading.Lock()

    def parse(self, text: str) -> Parse:
        with self._lock:
            self.calls += 1
        time.sleep(self.delay)  # parsing is synchronous: the turn's thread waits
        return self.inner.parse(text)


def answer_of(services, text: str = QUESTION) -> str:  # type: ignore[no-untyped-def]
    """The engine's own answer to `text` (as a web user): what WeChat must deliver."""
    turn = services.engine.handle(Inbound(channel="web", user="cmp", text=text))
    return turn.replies[0].text.strip()


def concurrently(*calls):  # type: ignore[no-untyped-def]
    """Run the callables in threads, each started `gap` after the previous; their results in order."""
    results: list = [None] * len(calls)

    def run(i: int, fn) -> None:  # type: ignore[no-untyped-def]
        results[i] = fn()

    threads = []
    for i, (gap, fn) in enumerate(calls):
        time.sleep(gap)
        t = threading.Thread(target=run, args=(i, fn))
        t.start()
        threads.append(t)
    for t in threads:
        t.join(20)
    return results


def test_a_slow_answer_says_success_then_arrives_as_a_customer_service_message(open_wechat, sqlite_url, api,
                                                                                embedded_nlu):
    nlu = SlowNLU(embedded_nlu, delay=0.6)
    wx, services, _ = open_wechat(sqlite_url, budget=0.2, nlu=nlu)
    response = wx.post(wx.text(USER, QUESTION))
    responded = time.monotonic()
    assert response.text == "success"
    sent = api.wait_for("message/custom/send")
    assert len(sent) == 1 and sent[0].body["touser"] == USER and sent[0].body["msgtype"] == "text"
    assert sent[0].at > responded  # the answer came after `success`, as a customer-service message
    nlu.delay = 0.0
    assert answer_of(services) in sent[0].body["text"]["content"]
    assert len(api.calls("token")) == 1


class BlockingNLU(SlowNLU):
    """Slow the way CPU and database work is slow: it holds its thread (every parse does, now)."""


def test_a_turn_that_blocks_its_thread_still_gets_success_within_the_budget(open_wechat, sqlite_url, api,
                                                                             embedded_nlu):
    nlu = BlockingNLU(embedded_nlu, delay=1.5)
    wx, _, _ = open_wechat(sqlite_url, budget=0.3, nlu=nlu)
    started = time.monotonic()
    response = wx.post(wx.text(USER, QUESTION))
    took = time.monotonic() - started
    assert response.text == "success"
    assert took < 1.2  # the deadline fired while the turn still held its thread (it needs 1.5 s)
    sent = api.wait_for("message/custom/send")
    assert len(sent) == 1 and sent[0].body["touser"] == USER
    assert sent[0].at - started >= 1.5  # the answer itself came when the turn was done


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_tip_step_retried_three_times_is_applied_once(open_wechat, sqlite_url, request, db):
    url = sqlite_url if db == "sqlite" else request.getfixturevalue("postgres_url")
    wx, services, _ = open_wechat(url)
    assert "县区" in wx.say(USER, "我要举报")
    region = wx.text(USER, "石泉县", msg_id="900000000000001")
    replies = [wx.reply(wx.post(region)) for _ in range(4)]  # the message, then WeChat's three retries
    assert replies[0] and PROMPTS["subject"] in replies[0]
    assert replies[1:] == [replies[0]] * 3  # a retry gets the answer again, not a second handling
    with services.uow() as uow:
        assert [c.step for c in uow.session.scalars(select(Conversation))] == ["subject"]
    assert PROMPTS["description"] in wx.say(USER, "鑫盛祥瑞农业合作社")


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_concurrent_retries_in_two_workers_are_processed_once(open_wechat, sqlite_url, embedded_nlu, api,
                                                              request, db):
    url = sqlite_url if db == "sqlite" else request.getfixturevalue("postgres_url")
    nlu = SlowNLU(embedded_nlu, delay=0.5)
    wx1, services, _ = open_wechat(url, budget=3.0, nlu=nlu)
    wx2, _, _ = open_wechat(url, budget=3.0, nlu=nlu)  # a second worker on the same database
    xml = wx1.text(USER, QUESTION, msg_id="900000000000002")
    replies = concurrently((0, lambda: wx1.reply(wx1.post(xml))), (0.1, lambda: wx2.reply(wx2.post(xml))),
                           (0, lambda: wx2.reply(wx2.post(xml))), (0, lambda: wx1.reply(wx1.post(xml))))
    assert nlu.calls == 1
    nlu.delay = 0.0
    assert replies[0] and answer_of(services) in replies[0]  # the first request answered passively
    given = [r for r in replies[1:] if r is not None]
    assert given and set(given) == {replies[0]}  # retries carry the same answer (or `success`), never a new one
    time.sleep(0.3)
    assert api.calls("message/custom/send") == []


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_slow_concurrent_retries_end_in_one_customer_service_message(open_wechat, sqlite_url, embedded_nlu, api,
                                                                     request, db):
    url = sqlite_url if db == "sqlite" else request.getfixturevalue("postgres_url")
    nlu = SlowNLU(embedded_nlu, delay=0.8)
    wx1, services, _ = open_wechat(url, budget=0.3, nlu=nlu)
    wx2, _, _ = open_wechat(url, budget=0.3, nlu=nlu)
    xml = wx1.text(USER, QUESTION, msg_id="900000000000003")
    replies = concurrently((0, lambda: wx1.reply(wx1.post(xml))), (0.05, lambda: wx2.reply(wx2.post(xml))),
                           (0.1, lambda: wx1.reply(wx1.post(xml))))
    assert replies == [None, None, None]  # all `success`: nothing was ready within the budget
    assert len(api.wait_for("message/custom/send")) == 1
    time.sleep(0.5)
    assert len(api.calls("message/custom/send")) == 1 and nlu.calls == 1
    nlu.delay = 0.0
    assert api.sent_texts(USER) and answer_of(services) in api.sent_texts(USER)[0]


PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8 + b"evidence-photo-marker"


def test_a_whole_tip_through_wechat_with_a_photo(open_wechat, sqlite_url, api):
    wx, services, _ = open_wechat(sqlite_url)
    api.add_media("EVIDENCE-1", PHOTO, "image/png")
    first = wx.say(USER, "我要举报")
    number = re.search(r"(\d+)\. 石泉县", first).group(1)  # the counties as a numbered list
    assert PROMPTS["subject"] in wx.say(USER, number)
    assert PROMPTS["description"] in wx.say(USER, "鑫盛祥瑞农业合作社，负责人叫王德福")
    assert "多少钱" in wx.say(USER, "他们在村里开会宣传，每月返息三分，保本保息，拉人头再奖励")
    assert "多少人" in wx.say(USER, "大概三十万")
    assert "照片" in wx.say(USER, "跳过")
    got = wx.reply(wx.post(wx.xml(USER, "image", PicUrl="http://mmbiz.invalid/p", MediaId="EVIDENCE-1",
                                  MsgId=wx.next_id())))
    assert "第1张图片" in got
    assert "匿名" in wx.say(USER, "好了")
    summary = wx.say(USER, "匿名")
    assert "1张图片" in summary and "1. 确认" in summary
    done = wx.say(USER, "1")  # "1" is 确认
    receipt = re.search(r"[2-9A-Z]{5}(?:-[2-9A-Z]{5}){3}", done).group(0)
    assert "举报已提交" in done
    with services.uow() as uow:
        tip = uow.session.scalars(select(Tip)).one()
        assert (tip.channel, tip.office_code) == ("wechat", "shiquan")
        assert services.tips.find(uow.session, receipt).id == tip.id
        seals = uow.session.scalars(select(TipSeal).where(TipSeal.tip_id == tip.id)).all()
        key = unlock(uow.session, "shiquan", DEV_PASSPHRASE)
        evidence = [key.open_json(s.ciphertext) for s in seals if s.part == "evidence"]
        assert [base64.b64decode(e["data"]) for e in evidence] == [PHOTO]
        identity = key.open_json(next(s.ciphertext for s in seals if s.part == "identity"))
        assert identity["chat_id"] == USER and identity["channel"] == "wechat"
    services.db.dispose()  # flush SQLite's write-ahead log into the file before reading it
    path = Path(sqlite_url.removeprefix("sqlite:///"))
    stored = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    for secret in (PHOTO[8:200], base64.b64encode(PHOTO)[:200], USER.encode(), "王德福".encode()):
        assert secret not in stored
