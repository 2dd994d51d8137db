"""Issue 13 through POST /api/chat: a verdict on the person's own case, and follow-ups that keep it."""

from __future__ import annotations

from pathlib import Path

import yaml
from sqlalchemy import select

from bot.store.models import Conversation
from tests.integration.test_chat_api import say, text_of

REPO = Path(__file__).resolve().parents[2]
STORY = "俺家老头子在搞一个养老院的项目说投十万每年返一万二中不中"


def test_a_described_promise_gets_a_verdict_about_their_case(sqlite_client):
    body = say(sqlite_client, "v1", STORY)
    assert {"high_return", "pension_disguise"} <= set(body["red_flags"])
    first = body["replies"][0]["text"]
    assert first.startswith("您说的这个") and "12%" in first and "非法集资" in first
    assert body["topic"] in ("tactic_pension", "risk_check")
    assert len(body["replies"]) == 2  # the verdict, then the topic's advice
    assert "那怎么办" in body["replies"][-1]["buttons"]


def test_follow_ups_are_understood_from_the_conversation(sqlite_client):
    say(sqlite_client, "v2", STORY)
    now = say(sqlite_client, "v2", "那怎么办")
    assert now["topic"] == "victim_what_to_do" and "别交" in text_of(now)
    more = say(sqlite_client, "v2", "那我已经投了五万")
    assert more["topic"] == "victim_what_to_do" and "别再往里投" in text_of(more)


def test_follow_ups_after_an_ordinary_case_stay_on_its_topic_with_no_victim_steps(sqlite_client):
    first = say(sqlite_client, "v9", "我在村镇银行存了三十万定期，听人说小银行会倒闭，钱安全吗")
    assert first["red_flags"] == []
    for follow in ("那超过五十万咋办", "还有啥要注意的"):
        body = say(sqlite_client, "v9", follow)
        assert body["topic"] == "legit_finance" and body["red_flags"] == [], (follow, body["topic"])
        assert "报案" not in text_of(body)


def test_more_after_a_verdict_gives_its_details_then_the_topic(sqlite_client):
    say(sqlite_client, "v3", STORY)
    details = say(sqlite_client, "v3", "更多")
    assert "【依据】" in text_of(details) and details["red_flags"]
    again = say(sqlite_client, "v3", "更多")
    assert again["red_flags"] == [] and again["topic"] == details["topic"]


def test_a_tip_after_a_story_offers_the_story_for_confirmation_never_silently(sqlite_client):
    story = "石泉县有个鑫盛合作社，让我爸入股一万，每年分红两千，说到期退本"
    say(sqlite_client, "v4", story)
    tip = say(sqlite_client, "v4", "我要举报他们")
    assert tip["topic"] == "report_start" and tip["expects"] == "description"
    assert "您刚才说的情况" in text_of(tip) and "鑫盛合作社" in text_of(tip)
    nxt = say(sqlite_client, "v4", "对")
    assert nxt["expects"] not in ("description", "region")  # the county came with the story
    say(sqlite_client, "v5", story)
    changed = say(sqlite_client, "v5", "举报这家合作社")  # a bare 举报 opens a tip too
    assert changed["expects"] == "description"
    replaced = say(sqlite_client, "v5", "他们在镇上发传单，说入股一万每年分两千，还让拉亲戚入股")
    assert replaced["expects"] != "description"


def test_a_correction_is_answered_afresh(sqlite_client):
    say(sqlite_client, "v6", "村里有人搞扶贫养牛，投八千年底还一万，还有个养老院在收床位费")
    fixed = say(sqlite_client, "v6", "不是，我是说养老院那个")
    assert fixed["topic"] == "tactic_pension"


def test_ordinary_finance_gets_no_flag_and_reassurance_follows(sqlite_client):
    body = say(sqlite_client, "v7", "俺娃在手机银行给俺弄了个基金定投，一个月两百，说有赚有赔")
    assert body["red_flags"] == []
    ok = say(sqlite_client, "v7", "那中不中")
    assert ok["red_flags"] == [] and ok["topic"] == "legit_finance" and "持牌" in text_of(ok)


def test_the_case_is_sealed_at_rest(services, client):
    say(client, "v8", STORY)
    with services.sessions() as session:
        rows = session.scalars(select(Conversation)).all()
        assert len(rows) == 1 and rows[0].sealed
        assert "一万二" not in str(rows[0].data) and "一万二" not in rows[0].sealed


def test_the_held_out_sets_are_not_in_any_training_or_tuning_data():
    from bot.riskcheck.verdict_eval import SETS, load

    held: list[str] = []
    for situations, dialogues in SETS.values():
        held += [i["text"] for i in yaml.safe_load(situations.read_text("utf-8"))]
        held += [t["text"] for d in load(dialogues) for t in d["turns"] if len(t["text"]) >= 12]
    corpus = "".join(p.read_text("utf-8") for p in [*(REPO / "nlu/rasa/data").rglob("*.yml"),
                                                    *(REPO / "tests/data").glob("riskcheck_*.yaml"),
                                                    *(REPO / "content").rglob("*.yaml")])
    # a short stock question (什么是非法集资) is anybody's wording; a longer text found in the data is a leak
    leaked = [t for t in held if len(t) >= 12 and t in corpus]
    assert not leaked, leaked[:3]
    assert len(SETS) >= 3 and len(held) >= 3 * (150 + 40)


def test_every_answer_carries_its_legal_basis_in_the_api(sqlite_client):
    body = say(sqlite_client, "b1", "啥叫非法集资")
    assert body["topic"] == "definition" and "第二条" in (body["basis"] or "")
    assert "【依据】" not in body["replies"][0]["text"]  # the words of it are one tap away, behind 更多


def test_a_named_county_gets_its_own_office(sqlite_client, services):
    body = say(sqlite_client, "b2", "我是石泉县的，想举报要找谁，打什么电话")
    office = services.offices.get("shiquan")
    assert body["topic"] == "report_how"
    assert office.contacts.phone in text_of(body) and office.name in text_of(body)
    other = say(sqlite_client, "b3", "想举报要找谁，打什么电话")  # no county named: no county's office
    assert office.contacts.phone not in text_of(other)


def test_a_turn_that_changes_nothing_writes_nothing_and_a_change_is_written(services, client):
    def stored():
        with services.sessions() as session:
            row = session.scalars(select(Conversation)).one()
            return row.updated_at, dict(row.data)

    say(client, "w1", "什么是非法集资")
    first = stored()
    say(client, "w1", "什么是非法集资")  # the same question: the same state, no write
    assert stored() == first
    say(client, "w1", "举报有奖励吗")  # another topic: written in one upsert
    later = stored()
    assert later[1].get("last_topic") != first[1].get("last_topic") and later[0] > first[0]


def test_more_after_an_ordinary_story_that_followed_a_verdict_is_about_the_new_story(sqlite_client):
    say(sqlite_client, "m1", STORY)
    plain = say(sqlite_client, "m1", "我在村镇银行存了三十万定期，听人说小银行会倒闭，钱安全吗")
    assert plain["red_flags"] == []
    more = say(sqlite_client, "m1", "更多")  # once crashed: the verdict's "更多" looked for words no longer kept
    assert more["red_flags"] == [] and more["topic"] == plain["topic"]


def test_a_short_question_about_the_case_keeps_it_for_the_tip(sqlite_client):
    say(sqlite_client, "m2", "镇上一家公司在小区发传单，入股分红一股五千，年分红百分之三十六，说快上市了")
    asked = say(sqlite_client, "m2", "那帮他们发传单的人有责任吗")
    assert asked["topic"] == "law_promoter_liability"
    tip = say(sqlite_client, "m2", "好 我去举报他们")
    assert tip["topic"] == "report_start" and "您刚才说的情况" in text_of(tip)


def test_more_said_in_other_words_and_unsure_follow_ups_stay_on_the_case(sqlite_client):
    say(sqlite_client, "m3", STORY)
    again = say(sqlite_client, "m3", "再讲讲")
    assert "【依据】" in text_of(again) and again["red_flags"]
    say(sqlite_client, "m4", "工商银行三年期大额存单利率百分之二点几，二十万起存，这个靠谱吗")
    cap = say(sqlite_client, "m4", "超过多少不保")
    assert cap["topic"] == "legit_finance"
    bye = say(sqlite_client, "m4", "好的那我放心了，谢谢")
    assert bye["topic"] == "thanks_bye"
    weather = say(sqlite_client, "m5", "今天天气怎么样")
    assert weather["topic"] == "out_of_scope"


def test_asking_how_to_check_a_claim_is_no_verdict(sqlite_client):
    body = say(sqlite_client, "m6", "有个人说他们是正规的投资公司，我想知道怎么查他们有没有金融牌照")
    assert body["red_flags"] == [] and body["topic"] == "verify_institution"
    told = say(sqlite_client, "m7", "有个人说他们是正规公司，投五万一年返一万，我想知道怎么查")
    assert "high_return" in told["red_flags"]  # a promise told beside the ask is still a case


def test_relief_legality_and_scam_asks_after_a_case(sqlite_client):
    say(sqlite_client, "m8", "我在手机银行定投了一个公募基金，每月五百，说明书写了不保本")
    assert say(sqlite_client, "m8", "行，那我放心了")["topic"] == "thanks_bye"
    say(sqlite_client, "m9", "我借给我弟五万买房，说好年息3%，写了借条")
    plain = say(sqlite_client, "m9", "那这算不算非法集资")
    assert plain["red_flags"] == [] and "没看到非法集资的典型说法" in text_of(plain)
    say(sqlite_client, "m10", STORY)
    crime = say(sqlite_client, "m10", "这犯法不")
    assert crime["topic"] == "law_crimes"
    say(sqlite_client, "m11", STORY)
    say(sqlite_client, "m11", "那啥叫非法集资")
    more = say(sqlite_client, "m11", "更多")  # about the answer just given, not the verdict before it
    assert more["red_flags"] == [] and more["topic"] == "definition"


def test_a_tip_request_with_a_chore_keeps_the_story_offered(sqlite_client):
    say(sqlite_client, "m12", STORY)
    tip = say(sqlite_client, "m12", "那我实名举报，帮我登记一下")
    assert tip["topic"] == "report_start" and "您刚才说的情况" in text_of(tip)
    say(sqlite_client, "m13", STORY)
    group = say(sqlite_client, "m13", "能帮我举报这个养老院不")
    assert group["topic"] == "report_start" and "您刚才说的情况" in text_of(group)


def test_a_question_inside_a_tip_is_answered_and_the_story_stays_offered(sqlite_client):
    say(sqlite_client, "m14", STORY)
    say(sqlite_client, "m14", "我要举报他们")
    reward = say(sqlite_client, "m14", "有奖励没")
    assert reward["topic"] == "report_reward" and "举报还没提交" in text_of(reward)
    thanks = say(sqlite_client, "m14", "谢谢")
    assert thanks["topic"] == "thanks_bye" and "举报还没提交" in text_of(thanks)
    again = say(sqlite_client, "m14", "继续举报")
    assert again["expects"] == "description" and "您刚才说的情况" in text_of(again)  # still to be confirmed
    steps = ("我要举报", "汉阴县", "某公司", "他们收钱返高息", "跳过", "跳过", "跳过", "匿名")
    anonymous = [say(sqlite_client, "m15", t) for t in steps][-1]
    assert anonymous["topic"] == "report_start" and anonymous["expects"] == "confirm"  # 匿名 answers the step


def test_a_claim_said_back_after_a_verdict_is_answered_and_thanks_ends_a_subscription(sqlite_client):
    say(sqlite_client, "m16", STORY)
    claim = say(sqlite_client, "m16", "他们说是国家支持的啊")
    assert claim["topic"] == "verify_institution" and "营业执照不是金融许可" in text_of(claim)
    say(sqlite_client, "m17", "我想订阅防骗提醒")
    assert say(sqlite_client, "m17", "谢谢")["topic"] == "thanks_bye"
