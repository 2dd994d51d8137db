"""Leaving during a campaign: an unsubscribe in chat stops the push at once; a blocked bot stops it too."""

from __future__ import annotations

from sqlalchemy import select

from bot.campaigns.stats import campaign_stats
from bot.messages import Inbound
from bot.store.models import Subscriber
from tests.integration.test_campaign_harness import harness  # noqa: F401 - a fixture


def test_unsubscribing_and_blocking_during_a_campaign_stop_further_sends(harness):  # noqa: F811
    harness.tg.state.rate = 5
    users = harness.subscribe(30)
    harness.tg.block(users[3])  # this person blocked the bot: Telegram answers 403
    harness.worker(telegram_rate=5)
    harness.worker(telegram_rate=5)
    cid = harness.campaign()
    harness.wait(lambda: len(harness.sent_ok()) >= 8, 60, "the campaign to be under way")
    leaving = users[-10:]  # sent in the order people subscribed: the last ten are still waiting
    assert not set(leaving) & set(harness.per_chat())
    for i, user in enumerate(leaving):  # they write to the bot, as they would in Telegram
        word = ("退订", "TD", "退订推送")[i % 3]
        turn = harness.services.engine.handle(Inbound(channel="telegram", user=user, text=word))
        assert turn.topic == "unsubscribe"
    harness.wait_done(cid, timeout=90)
    per_chat = harness.per_chat()
    assert not set(leaving) & set(per_chat)  # honoured at once: nothing was sent to them
    stayed = set(users) - set(leaving) - {users[3]}
    assert set(per_chat) == stayed and set(per_chat.values()) == {1}
    with harness.services.sessions() as s:
        blocked = s.scalars(select(Subscriber).where(Subscriber.reachable.is_(False))).all()
        assert len(blocked) == 1 and blocked[0].last_error  # marked: no later campaign will try again
    s = campaign_stats(harness.services.sessions, cid)
    assert (s.total.sent, s.total.unsubscribed_before, s.total.unsubscribed_since, s.total.blocked) == (19, 10, 10, 1)
