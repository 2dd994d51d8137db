"""TelegramSender (campaign pushes): rate limits, RetryAfter, blocked people, long texts — against the fake."""

from __future__ import annotations

import asyncio
import logging
import time

import httpx
from sqlalchemy import select

from bot.channels.base import SendResult
from bot.channels.telegram.sender import TelegramSender
from bot.messages import Button, Inbound, Outbound
from bot.store.models import Subscriber
from tests.fakes.telegram_api import FakeTelegram

TOKEN = "123456:TEST-token"



async def test_a_push_with_buttons_is_sent(tg):
    sender = TelegramSender(TOKEN, tg.base_url)
    result = await sender.send("424242001", [Outbound("新骗局提醒", (Button("我要举报"), Button("怎么识别非法集资")))])
    assert result == SendResult("sent")
    params = tg.calls("sendMessage")[0].params
    assert params["chat_id"] == "424242001" and params["text"] == "新骗局提醒"
    keys = [b["text"] for row in params["reply_markup"]["inline_keyboard"] for b in row]
    assert keys == ["我要举报", "怎么识别非法集资"]
    await sender.aclose()


async def test_retry_after_is_returned_and_honoured(tg):
    sender = TelegramSender(TOKEN, tg.base_url)
    tg.fail("sendMessage", 429, retry_after=1)
    first = await sender.send("1001", [Outbound("提醒")])
    assert (first.status, first.retry_after, first.error) == ("retry", 1.0, "RetryAfter")
    calls = len(tg.calls("sendMessage"))
    second = await sender.send("1002", [Outbound("提醒")])
    assert second.status == "retry" and 0 < (second.retry_after or 0) <= 1.0
    assert len(tg.calls("sendMessage")) == calls  # Telegram was not asked again during the pause
    await asyncio.sleep((second.retry_after or 0) + 0.05)
    assert (await sender.send("1002", [Outbound("提醒")])).ok
    await sender.aclose()


async def test_blocked_person_is_marked_unreachable(make_services, sqlite_url, tg):
    svc = make_services(sqlite_url, telegram_token=TOKEN, telegram_api_base=tg.base_url)
    for text in ("订阅防骗提醒", "老年人", "全市都要"):  # subscribed through the engine, as a Telegram user
        await svc.turns.handle(Inbound(channel="telegram", user="5550001", text=text))
    sender = svc.senders["telegram"]
    assert sender.channel == "telegram"
    tg.block(5550001)
    result = await sender.send("5550001", [Outbound("提醒")])
    assert (result.status, result.error) == ("blocked", "Forbidden")
    with svc.uow() as uow:
        sub = uow.session.scalars(select(Subscriber)).one()
        assert (sub.reachable, sub.last_error, sub.opted_in) == (False, "blocked", True)
    svc.db.dispose()


async def test_chat_not_found_is_blocked_other_bad_requests_fail(tg):
    sender = TelegramSender(TOKEN, tg.base_url)
    tg.fail("sendMessage", 400, chat_id=77)
    assert (await sender.send("77", [Outbound("x")])).error == "ChatNotFound"
    tg.fail("sendMessage", 400, description="Bad Request: can't parse entities")
    assert await sender.send("78", [Outbound("x")]) == SendResult("failed", error="BadRequest")
    await sender.aclose()


def test_senders_are_registered_only_with_a_token(make_services, sqlite_url):
    svc = make_services(sqlite_url)
    assert "telegram" not in svc.senders
    svc.db.dispose()


async def test_a_long_text_is_split_at_line_breaks(tg):
    text = "\n".join(f"第{i}条：不要相信保本高息，先查一查、问一问。" for i in range(250))
    assert len(text) > 4096
    assert (await TelegramSender(TOKEN, tg.base_url).send("9", [Outbound(text, (Button("退订推送"),))])).ok
    calls = tg.calls("sendMessage")
    assert len(calls) >= 2 and all(len(c.params["text"]) <= 4096 for c in calls)
    assert "\n".join(c.params["text"] for c in calls) == text
    assert "reply_markup" in calls[-1].params and "reply_markup" not in calls[0].params


def test_the_sender_works_from_fresh_event_loops(tg):
    sender = TelegramSender(TOKEN, tg.base_url)
    assert asyncio.run(sender.send("1", [Outbound("a")])).ok
    assert asyncio.run(sender.send("2", [Outbound("b")])).ok  # a worker may run each job in a new loop


async def test_the_rate_limiter_keeps_under_a_strict_fake(caplog):
    with FakeTelegram(rate=30, record=False) as tg:
        sender = TelegramSender(TOKEN, tg.base_url, rate=30)
        started = time.monotonic()
        results = await asyncio.gather(*(sender.send(str(10_000 + i), [Outbound(f"提醒{i}")]) for i in range(60)))
        elapsed = time.monotonic() - started
        assert all(r.ok for r in results), {r.status for r in results}
        stats = tg.stats()
        assert stats["sent"] == 60 and stats["throttled"] == 0
        assert elapsed >= 0.9  # 30 at once, then 30 a second
        await sender.aclose()


def test_the_fake_enforces_its_rate_with_429():
    with FakeTelegram(rate=2, record=False) as tg, httpx.Client() as http:
        codes = [http.post(f"{tg.base_url}{TOKEN}/sendMessage", json={"chat_id": 1, "text": "x"}) for _ in range(12)]
        throttled = [r for r in codes if r.status_code == 429]
        assert len(throttled) >= 3  # a burst of 2, one more for slack, then 2 a second
        assert throttled[0].json()["parameters"]["retry_after"] >= 1
        assert http.get(f"http://{tg.host}:{tg.port}/_fake/stats").json()["throttled"] == len(throttled)


def test_no_chat_id_or_text_in_sdk_logs(caplog, tg):
    caplog.set_level(logging.DEBUG)
    sender = TelegramSender(TOKEN, tg.base_url)
    assert asyncio.run(sender.send("31415926", [Outbound("机密内容QWERTY")])).ok
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("telegram"))
    assert logged and "31415926" not in logged and "QWERTY" not in logged
