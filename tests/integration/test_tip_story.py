"""Issue 17.1/17.2: a tip told in one message, complaints never stored, one field changed, cancels in words."""

from __future__ import annotations

from sqlalchemy import select

from bot.store.models import Tip, TipSeal
from bot.tips.keys import DEV_PASSPHRASE, unlock
from tests.integration.test_chat_api import say, text_of

STORY = ("我要举报，旬阳市蜀河镇的旬阳鑫农生态合作社，入股一万每年分红两千，保本，"
         "一共收了两百多万，村里一百多人都入了，负责人叫陈某")


def opened(services) -> dict:
    with services.uow() as uow:
        tip = uow.session.scalars(select(Tip)).one()
        seal = uow.session.scalars(select(TipSeal).where(TipSeal.part == "content",
                                                         TipSeal.office_code == tip.office_code)).one()
        return unlock(uow.session, tip.office_code, DEV_PASSPHRASE).open_json(seal.ciphertext)


def test_a_tip_told_in_one_message_is_filed_in_four(client, services):
    first = say(client, "s1", STORY)
    assert first["expects"] == "evidence"               # region, subject, story, total and head count were told
    assert say(client, "s1", "跳过")["expects"] == "contact"
    summary = say(client, "s1", "匿名")
    assert summary["expects"] == "confirm"
    shown = text_of(summary)
    assert "旬阳市" in shown and "旬阳鑫农生态合作社" in shown and "2000000元" in shown and "100人" in shown
    assert say(client, "s1", "确认")["receipt"]          # four messages in all
    content = opened(services)
    assert content["subject"] == "旬阳鑫农生态合作社" and content["amount"] == 2_000_000  # not the 一万 per share
    assert "保本" in content["description"]


def test_a_complaint_about_being_asked_again_is_never_a_value(client, services):
    assert say(client, "s2", "我要举报石泉县的一个合作社，每月返息三分，拉人入股有提成")["expects"] == "subject"
    body = say(client, "s2", "我刚才不是说了吗")
    assert body["expects"] == "subject" and "没找到" in text_of(body)
    assert say(client, "s2", "鑫盛合作社")["expects"] == "amount"
    for answer in ("跳过", "跳过", "跳过", "匿名"):
        say(client, "s2", answer)
    assert say(client, "s2", "确认")["receipt"]
    content = opened(services)
    assert content["subject"] == "鑫盛合作社" and "返息三分" in content["description"]


def test_a_complaint_takes_the_slot_from_the_story_when_it_is_there(client):
    say(client, "s3", "我要举报，有个“惠民共富”平台每天返百分之二")
    body = say(client, "s3", "上面都说了")       # asked for the county, which the story did not name
    assert body["expects"] == "region" and "没找到" in text_of(body)


def test_edit_changes_one_field_and_returns_to_the_summary(client, services):
    say(client, "s4", STORY)
    say(client, "s4", "跳过")
    say(client, "s4", "匿名")
    menu = say(client, "s4", "修改")
    assert menu["expects"] == "edit" and "金额" in menu["replies"][0]["buttons"]
    assert say(client, "s4", "金额")["expects"] == "amount"
    back = say(client, "s4", "三百万")
    assert back["expects"] == "confirm" and "金额：三百万" in text_of(back) and "旬阳鑫农生态合作社" in text_of(back)


def test_not_wanting_to_give_a_name_is_anonymous(client):
    say(client, "s5", STORY)
    say(client, "s5", "跳过")
    body = say(client, "s5", "不想说")
    assert body["expects"] == "confirm" and "匿名" in text_of(body)
