"""Issue 17.2: drafts that expire, questions in the middle of a tip, cancels in everyday words."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot.store.models import Conversation, utcnow
from tests.integration.test_chat_api import say, text_of


def test_a_half_written_tip_expires_and_is_erased(client, services):
    say(client, "p1", "我要举报")
    assert say(client, "p1", "汉阴县")["expects"] == "subject"
    with services.uow() as uow:  # 31 minutes pass without a word
        uow.session.execute(update(Conversation).values(updated_at=utcnow() - timedelta(minutes=31)))
        uow.commit()
    body = say(client, "p1", "什么是非法集资")
    assert "已经删除" in body["replies"][0]["text"] and body["topic"] == "definition" and body["expects"] is None
    with services.uow() as uow:
        row = uow.session.scalars(select(Conversation)).one()
        assert row.flow is None and row.sealed is None


def test_a_tapped_question_in_the_middle_asks_before_filling_a_slot(client, services):
    say(client, "p2", "我要举报")
    say(client, "p2", "汉阴县")
    asked = say(client, "p2", "什么是非法集资")        # a button label, not a company name
    assert asked["expects"] == "subject" and "继续举报" in asked["replies"][0]["buttons"]
    answered = say(client, "p2", "先回答问题")
    assert answered["topic"] == "definition" and "继续举报" in text_of(answered)
    back = say(client, "p2", "继续举报")
    assert back["expects"] == "subject"
    assert say(client, "p2", "鑫盛合作社")["expects"] == "description"


@pytest.mark.parametrize("words", ["算了不举报了", "不想说了", "先不报了", "不举报了"])
def test_everyday_words_cancel_a_tip(client, words):
    user = f"p3-{len(words)}-{ord(words[-1])}"
    say(client, user, "我要举报")
    say(client, user, "汉阴县")
    body = say(client, user, words)
    assert "已取消" in text_of(body) and body["expects"] is None
