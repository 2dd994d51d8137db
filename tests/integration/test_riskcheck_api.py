"""The risk check through POST /api/chat (shared/spec/chat-api.md), on SQLite and PostgreSQL."""

from __future__ import annotations

VERDICTS = ("明显高风险", "需要警惕", "未发现明显危险信号")
LAW = "《防范和处置非法集资条例》第二条"


def say(client, user: str, text: str) -> dict:
    r = client.post("/api/chat", json={"user": user, "text": text})
    assert r.status_code == 200, r.text
    return r.json()


def reply_of(body: dict) -> tuple[str, list[str]]:
    first = body["replies"][0]
    return first["text"], first["buttons"]


def verdict_of(text: str) -> str:
    found = [v for v in VERDICTS if f"结论：{v}" in text]
    assert len(found) == 1, text
    return found[0]


def assert_says_what_to_do(text: str) -> None:
    assert "不要交钱" in text and "不要拉亲友" in text, text
    assert "留好证据" in text and "截图" in text and "转账记录" in text, text
    assert "我要举报" in text and "110" in text, text
    assert LAW in text and "（2022年修正）第一条" in text, text


def more_of(client, user: str) -> str:
    """The whole check, one tap away behind "更多"."""
    body = say(client, user, "更多")
    assert body["topic"] == "risk_check" and body["red_flags"], body
    return reply_of(body)[0]


def test_a_pasted_pitch_gets_a_verdict_each_phrase_why_and_what_to_do(client, services):
    pitch = "【鑫福养老】国家支持的养老项目来啦！投资养老公寓床位，年化18%，保本保息，名额有限，欢迎亲朋好友来咨询！"
    body = say(client, "rc1", "帮我看看这个靠谱吗：" + pitch)
    assert body["topic"] == "risk_check"
    assert body["red_flags"] == ["guaranteed_principal", "high_return", "urgency", "fake_endorsement",
                                 "public_solicitation", "pension_disguise"]
    text, buttons = reply_of(body)
    assert verdict_of(text) == "明显高风险" and len(text) <= 200  # the first screen: short
    assert "「保本保息」" in text and "约18%" in text and "还有3处" in text
    whole = more_of(client, "rc1")
    for phrase in ("保本保息", "年化18%", "名额有限", "国家支持", "欢迎亲朋好友", "养老项目"):
        assert f"「{phrase}」" in whole, phrase
    assert "正规投资都有风险" in whole  # why 保本 matters
    assert "约18%" in whole and "单利" in whole  # the yield, normalised and compared
    assert_says_what_to_do(whole)
    assert buttons[0] == "我要举报" and "更多" in buttons
    assert services.knowledge.title("tactic_pension") in buttons  # learn more about the matching scheme type


def test_the_buttons_lead_to_the_scheme_topic_and_to_a_tip(client, services):
    body = say(client, "rc2", "帮我看看：养老公寓床位认购，每年返12%，到期本金全额退还")
    _, buttons = reply_of(body)
    learn = services.knowledge.title("tactic_pension")
    assert learn in buttons
    assert say(client, "rc2", learn)["topic"] == "tactic_pension"
    tip = say(client, "rc2", "我要举报")
    assert tip["topic"] == "report_start" and tip["expects"] is not None


def test_a_legitimate_text_raises_nothing_and_says_how_to_verify(client):
    notice = ("帮我看看这个靠谱吗：【XX银行】尊敬的客户，本行三年期定期存款年利率1.75%，"
              "受《存款保险条例》保护，欢迎到网点咨询办理。")
    body = say(client, "rc3", notice)
    assert body["topic"] == "risk_check" and body["red_flags"] == []
    text, buttons = reply_of(body)
    assert verdict_of(text) == "未发现明显危险信号"
    assert "不等于一定安全" in text and "持牌" in text and "1.75%" in text and "我要举报" in buttons
    assert LAW in reply_of(say(client, "rc3", "更多"))[0]  # the legal basis, one tap away


def test_a_public_warning_listing_the_same_words_raises_nothing(client):
    warning = ("帮我看看：【防范非法集资宣传】常见话术有“保本保息”“稳赚不赔”“年化收益20%以上”“拉人头有奖励”"
               "“原始股马上上市”。凡是听到这些，请立即拒绝并拨打举报电话。")
    body = say(client, "rc4", warning)
    assert body["topic"] == "risk_check" and body["red_flags"] == []
    assert verdict_of(reply_of(body)[0]) == "未发现明显危险信号"


def test_asking_first_then_pasting_checks_the_next_message(client):
    ask = say(client, "rc5", "帮我看看这个靠谱吗")
    assert ask["topic"] == "risk_check" and ask["red_flags"] == []
    assert "粘贴" in reply_of(ask)[0]
    body = say(client, "rc5", "本店会员充值一万元，每月返利息三百元，随时可退")
    assert body["topic"] == "risk_check"
    assert {"high_return", "rebate_disguise"} <= set(body["red_flags"])
    text, _ = reply_of(body)
    assert verdict_of(text) == "明显高风险" and "「每月返利息三百元」" in text and "约36%" in text
    assert_says_what_to_do(more_of(client, "rc5"))
    # the flow is over: the next message is a question again, not a text to check
    assert say(client, "rc5", "什么是非法集资")["red_flags"] == []


def test_asking_first_then_pasting_a_legitimate_text(client):
    say(client, "rc6", "这个靠谱吗")
    body = say(client, "rc6", "社区老年大学秋季班开始报名啦：书法、国画、合唱，免费报名，名额有限，报满为止。")
    assert body["topic"] == "risk_check" and body["red_flags"] == []
    assert verdict_of(reply_of(body)[0]) == "未发现明显危险信号"


def test_a_pitch_pasted_without_any_question_is_checked(client):
    body = say(client, "rc7", "零风险！高回报！投资1万元，一年后拿回1.5万元，稳赚不赔，名额仅剩最后10个！")
    assert body["topic"] == "risk_check"
    assert {"guaranteed_principal", "high_return", "urgency"} <= set(body["red_flags"])
    text, buttons = reply_of(body)
    assert verdict_of(text) == "明显高风险" and "「零风险」" in text and "约50%" in text
    assert_says_what_to_do(more_of(client, "rc7"))
    assert "我要举报" in buttons


def test_voice_style_text_without_punctuation(client):
    voice = ("老王啊我跟你讲那个养老院的床位你拿个五万块放进去每个月就给你七百五"
             "到了三年本钱原封不动还给你人家是民政上批了的")
    body = say(client, "rc8", voice)
    assert body["topic"] == "risk_check"
    assert body["red_flags"] == ["guaranteed_principal", "high_return", "fake_endorsement", "pension_disguise"]
    text, _ = reply_of(body)
    assert verdict_of(text) == "明显高风险"
    assert "每个月就给你七百五」" in text and "约18%" in text  # 750 × 12 / 50000, quoted with its deposit
    whole = more_of(client, "rc8")
    assert "「养老院的床位」" in whole
    assert_says_what_to_do(whole)


def test_traditional_characters_are_checked_and_quoted_as_written(client):
    text = "【祥瑞康養】候鳥式養老基地招募會員，預存五萬元，每年享受12%養老補貼，本金三年後全額退還，政府扶持項目！"
    body = say(client, "rc9", text)
    assert body["topic"] == "risk_check"
    assert {"guaranteed_principal", "high_return", "fake_endorsement", "pension_disguise"} <= set(body["red_flags"])
    text, _ = reply_of(body)
    assert verdict_of(text) == "明显高风险"
    whole = more_of(client, "rc9")
    assert "「政府扶持」" in whole and "「候鳥式養老」" in whole  # quoted as the person sent it
    assert_says_what_to_do(whole)


def test_one_warning_sign_is_a_caution(client):
    body = say(client, "rc10", "帮我看看：这个项目是政府扶持的，你可以去我们公司看看。")
    assert body["topic"] == "risk_check" and body["red_flags"] == ["fake_endorsement"]
    text, _ = reply_of(body)
    assert verdict_of(text) == "需要警惕" and "「政府扶持」" in text and "先别交钱" in text
    whole = more_of(client, "rc10")
    assert "不要拉亲友" in whole and LAW in whole


def test_ordinary_chat_and_questions_are_not_taken_for_pitches(client):
    for user, text in (("rc11", "晚上吃饺子，记得买点醋回来。"), ("rc12", "保本理财是不是都不靠谱？"),
                       ("rc13", "退休金每个月到账三千二，我每月存一千进去。")):
        body = say(client, user, text)
        assert body["red_flags"] == [], text
        if body["topic"] == "risk_check":  # the NLU may still send it to the check: then it finds nothing
            assert verdict_of(reply_of(body)[0]) == "未发现明显危险信号", text
