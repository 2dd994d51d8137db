"""Leaving the pushes in chat: 退订, TD and the 退订推送 button unsubscribe at once (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from bot.messages import Inbound
from bot.store.subscribers import SubscriberRepository


async def say(services, text: str, user: str = "20001") -> str:  # type: ignore[no-untyped-def]
    turn = await services.turns.handle(Inbound(channel="telegram", user=user, text=text))
    return turn.topic


def opted_in(services, user: str = "20001") -> bool | None:  # type: ignore[no-untyped-def]
    with services.uow() as uow:
        sub = SubscriberRepository(uow.session).get(services.hasher.digest("chat", f"telegram:{user}"))
        return None if sub is None else bool(sub.opted_in)


async def subscribe(services) -> None:  # type: ignore[no-untyped-def]
    for text in ("订阅", "老年人及家属", "汉滨区"):
        assert await say(services, text) == "subscribe"
    assert opted_in(services) is True


@pytest.mark.parametrize("word", ["退订", "TD", "td", "退订推送"])
async def test_one_word_unsubscribes(services, word):
    await subscribe(services)
    assert await say(services, word) == "unsubscribe"
    assert opted_in(services) is False
    await subscribe(services)  # and coming back works
    assert opted_in(services) is True


async def test_unsubscribe_works_even_in_the_middle_of_the_subscribe_flow(services):
    await subscribe(services)
    assert await say(services, "订阅") == "subscribe"  # starts choosing again, then changes their mind
    assert await say(services, "退订") == "unsubscribe"
    assert opted_in(services) is False
    assert await say(services, "汉滨区") != "subscribe"  # the flow was left: a county is no longer an answer


@pytest.mark.parametrize("word", ["取消订阅", "stop", "TD。"])
async def test_unsubscribe_at_the_county_step(services, word):
    await subscribe(services)
    for text in ("订阅", "在校学生"):
        await say(services, text)
    assert await say(services, word) == "unsubscribe"
    assert opted_in(services) is False


async def test_unsubscribe_while_waiting_for_a_pitch_to_check(services):
    await subscribe(services)
    await say(services, "帮我看看靠不靠谱")
    assert await say(services, "退订") == "unsubscribe"
    assert opted_in(services) is False


async def test_unsubscribe_inside_the_tip_flow_asks_whether_to_drop_the_tip(services):
    await subscribe(services)
    for text in ("我要举报", "汉阴县"):
        await say(services, text)
    turn = await services.turns.handle(Inbound(channel="telegram", user="20001", text="退订"))
    assert turn.topic == "unsubscribe" and opted_in(services) is False
    assert "取消" in [b.label for b in turn.replies[0].buttons] and "还没有提交" in turn.replies[0].text
    assert turn.expects == "subject"  # the tip goes on where it was: the subject is asked next
    turn = await services.turns.handle(Inbound(channel="telegram", user="20001", text="某某理财公司"))
    assert turn.topic == "report_start" and turn.expects == "description"
    turn = await services.turns.handle(Inbound(channel="telegram", user="20001", text="取消"))
    assert "已删除" in turn.replies[0].text


async def test_a_forwarded_message_that_says_td_is_not_the_persons_own_word(services):
    await subscribe(services)
    await services.turns.handle(Inbound(channel="telegram", user="20001", text="TD", forwarded=True))
    assert opted_in(services) is True
