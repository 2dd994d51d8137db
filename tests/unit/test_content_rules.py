"""The house style and accuracy of content/ (issue 14): short first screens, 您 throughout, citations from
the allowed list, the legal basis under “更多”, tip categories that leave ordinary sentences alone, and a
production start refused while the offices directory is sample data."""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from pydantic import ValidationError

from bot.campaigns.content import Library
from bot.content_check import check, piece_problems
from bot.knowledge import MORE_HINT, KnowledgeBase, TopicAnswer, load_topic_ids, screen_length
from bot.offices import OfficeDirectory
from bot.settings import Settings
from bot.store.subscribers import AUDIENCES
from bot.tips.extract import Categories

REPO = Path(__file__).resolve().parents[2]
CONTENT = REPO / "content"
FIRST_SCREEN_MAX = 200  # characters, line breaks not counted (content/style.yaml says the same)


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    values = OfficeDirectory.load(CONTENT / "offices.yaml").placeholder_values()
    return KnowledgeBase.load(CONTENT, load_topic_ids(CONTENT / "spec" / "topics.yaml"), values)


@pytest.fixture(scope="module")
def categories() -> Categories:
    return Categories.load(CONTENT / "tip_categories.yaml")


def _with(kb: KnowledgeBase, topic: str, **changes: object) -> KnowledgeBase:
    raw = {**kb.topics[topic].model_dump(), **changes}
    return KnowledgeBase(topics={**kb.topics, topic: TopicAnswer.model_validate(raw)}, values=kb.values,
                         style=kb.style)


# --- the house style --------------------------------------------------------------------------------

def test_the_content_keeps_the_house_style(kb):
    assert kb.style.first_screen_max == FIRST_SCREEN_MAX
    assert kb.style_problems() == []


def test_every_first_screen_is_at_most_200_characters_with_the_real_placeholders(kb):
    lengths = {tid: screen_length(kb.first_screen(tid)) for tid in kb.topics}
    assert max(lengths.values()) <= FIRST_SCREEN_MAX, lengths
    assert all("${" not in kb.first_screen(t) for t in kb.topics)


def test_no_reply_or_campaign_piece_says_ni(kb):
    lib = Library.load(CONTENT, kb.values)
    for tid in kb.topics:
        assert "你" not in kb.answer(tid).text, tid
        more = kb.more(tid)
        assert more is None or "你" not in more.text, tid
    for pid, piece in lib.pieces.items():
        assert "你" not in piece.text and "你" not in piece.title, pid
    assert piece_problems(lib, kb.style) == []


def test_a_ni_a_long_first_screen_a_long_sentence_and_a_wrong_citation_are_each_reported(kb):
    assert any("'你'" in p for p in _with(kb, "greet", answer="你好，有事问我。").style_problems())
    assert any("first screen" in p for p in _with(kb, "greet", answer="好。" * 120).style_problems())
    long_sentence = "这是一句特别特别长的句子它一直没有停下来也没有任何标点符号一直说下去"
    assert any("sentence of" in p for p in _with(kb, "greet", answer=long_sentence).style_problems())
    wrong = _with(kb, "definition", basis="法释〔2022〕5号第一条").style_problems()
    assert wrong == ["definition: citation not in the allowed list of style.yaml: 法释〔2022〕5号第一条"]


def test_one_short_fixed_closer_and_no_office_name_in_the_first_screen(kb):
    assert len(kb.style.closer) <= 30
    with_closer = [t for t in kb.topics.values() if t.closer]
    assert len(with_closer) >= 25
    for t in with_closer:
        assert kb.answer(t.id).text.count(kb.style.closer) == 1
    city = kb.values["city_office"]
    assert sum(city in kb.first_screen(t) for t in kb.topics) <= 1  # bot_identity says who runs it


# --- 【依据】 under “更多” -----------------------------------------------------------------------------

def test_the_basis_is_one_tap_away_under_more_and_no_longer_in_the_first_reply(kb):
    with_basis = [t for t in kb.topics.values() if t.basis]
    assert len(with_basis) >= 30
    for t in with_basis:
        first, more = kb.answer(t.id).text, kb.more(t.id)
        assert "【依据】" not in first and first.endswith(MORE_HINT), t.id
        assert more is not None and f"【依据】{t.basis}" in more.text, t.id
        assert kb.basis(t.id) == t.basis


# --- the accuracy fixes -----------------------------------------------------------------------------

def _all_text(kb: KnowledgeBase, topic: str) -> str:
    more = kb.more(topic)
    return kb.answer(topic).text + "\n" + (more.text if more else "")


def test_who_can_open_a_tip_is_said_exactly(kb):
    for tid in ("report_confidential", "report_start", "report_status"):
        text = _all_text(kb, tid)
        assert "市处非办" in text and "只有负责受理的县区处非办能打开" not in text, tid
    confidential = _all_text(kb, "report_confidential")
    assert "聊天账号" in confidential and "工作人员看不到" in confidential
    assert "不留任何身份信息" not in confidential


def test_a_civil_servant_who_invested_is_told_apart_from_one_who_promoted(kb):
    t = kb.topics["group_civil_servant"]
    assert "公务员法》第五十九条" in t.basis and "第三十七条" in t.basis
    assert "自己投了钱" in t.answer and "举报" in t.answer


def test_a_reward_needs_identity_a_definite_subject_and_facts(kb):
    text = _all_text(kb, "report_reward")
    assert "身份证" in text and "明确的对象" in text and "证据" in text and "本地" in text


def test_the_lower_prosecution_tier_names_its_floor_and_its_extra_condition(kb):
    more = kb.more("law_crimes").text
    assert "50万元以上" in more and "25万元以上" in more and "二年内" in more and "刑事追究" in more


def test_three_signs_are_enough_to_stop(kb):
    text = _all_text(kb, "four_features")
    assert "四点都占了" not in text and "三点都有" in text
    assert "四点都占了" not in (CONTENT / "campaigns" / "pieces" / "public_three_signs.yaml").read_text("utf-8")


def test_citations_name_the_interpretation_and_the_private_fund_regulation(kb):
    for tid, t in kb.topics.items():
        assert "法释〔2022〕5号" not in (t.basis or ""), tid
    assert "国务院令第762号" in kb.topics["tactic_private_equity"].basis
    assert "第十二条" in kb.topics["law_promoter_liability"].basis
    assert "第十一条" in kb.topics["law_promoter_liability"].basis
    assert "公通字〔2014〕16号" in kb.topics["four_features"].basis
    assert "公通字〔2014〕16号" in kb.topics["law_participant_loss"].basis
    assert "全国公安机关打击和防范经济犯罪宣传日" in kb.answer("campaign_info").text
    assert "第二百六十六条" in kb.topics["victim_recovery_scam"].basis


def test_the_subscribe_text_names_every_audience_as_its_button_does(kb):
    answer = kb.topics["subscribe"].answer.replace("\n", "")
    for label in AUDIENCES.values():
        assert label in answer, label
    assert "low_income" in AUDIENCES


def test_what_the_seeds_ask_for_is_covered(kb):
    def said(topic: str, *words: str) -> bool:
        return all(w in _all_text(kb, topic) for w in words)

    assert said("report_how", "网格员", "村委会")
    assert said("legit_finance", "LPR的4倍") and said("red_flags", "LPR")
    assert said("tactic_pension", "第三方存管")
    assert said("case_disposal", "协商清退", "信用记录", "信访")
    assert said("tactic_wealth_mgmt", "金融创新")
    assert said("tactic_online_lending", "众筹", "第三方支付")
    assert said("tactic_rebate", "民办学校")
    assert said("tactic_charity", "收入不高")
    for office in OfficeDirectory.load(CONTENT / "offices.yaml").counties:  # every county's phone is public
        assert office.contacts.phone in _all_text(kb, "report_how"), office.code


# --- tip categories ---------------------------------------------------------------------------------

ORDINARY = [
    "他让我先转五千元人民币到他卡上。", "工资是用人民币现金发的。", "我是在超市门口碰到他们发传单的。",
    "我孙子在学校上学。", "今年新米上市了。", "我住的公寓楼下天天有人开会。", "他发了个链接给我。",
    "我用手机app叫车过去的。", "邻里互助本来是好事。", "我的住房公积金还没取。",
]


@pytest.mark.parametrize("sentence", ORDINARY)
def test_an_ordinary_sentence_is_not_filed_under_a_sector(categories, sentence):
    assert categories.infer(sentence) == "other"


def test_the_ordinary_sentences_of_the_file_are_all_left_alone(categories):
    assert len(categories.ordinary) >= 15
    assert categories.ordinary_misfiled() == []


@pytest.mark.parametrize(("text", "code"), [
    ("他们自己发币，说上了交易所能翻十倍", "named_schemes"),
    ("转了五万元人民币买他们的虚拟货币", "named_schemes"),
    ("养老院让交钱订床位，每年返10%", "pension_school"),
    ("合作社让村民入股保底分红", "agri_coop"),
    ("下载一个投资app，每天返利", "named_schemes"),
    ("网贷平台说年化15%", "internet_finance"),
    ("卖原始股，说明年上市公司就收购", "private_fund_exchange"),
    ("商铺售后包租，每年8%", "commerce_realestate"),
])
def test_a_sector_is_still_found(categories, text, code):
    assert categories.infer(text) == code


def test_a_word_that_catches_ordinary_speech_is_reported(categories):
    raw = categories.model_dump()
    raw["categories"][0]["words"].append("币")
    bad = Categories.model_validate(raw)
    assert bad.infer("他让我先转五千元人民币到他卡上。") == "named_schemes"
    assert any("人民币" in line and "named_schemes" in line for line in bad.ordinary_misfiled())


# --- the sample offices directory -------------------------------------------------------------------

def _content_copy(tmp_path: Path, sample: bool) -> Path:
    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    path = content / "offices.yaml"
    data = path.read_text(encoding="utf-8")
    path.write_text(data.replace("sample: true", f"sample: {'true' if sample else 'false'}"), encoding="utf-8")
    return content


RANDOM_LOOKING = "Qz7-pLm2_Vx9Rt4Kw8Ny3Hb6Jd1Fs5Gc0A"  # production also refuses placeholder-looking secrets


def test_production_refuses_to_start_on_the_sample_directory(tmp_path):
    content = _content_copy(tmp_path, sample=True)
    with pytest.raises(ValidationError, match=re.escape(str(content / "offices.yaml"))):
        Settings(environment="production", secret_key=RANDOM_LOOKING, content_dir=content, data_dir=tmp_path)
    real = _content_copy(tmp_path / "real", sample=False)
    assert Settings(environment="production", secret_key=RANDOM_LOOKING, content_dir=real,
                    data_dir=tmp_path).content_dir == real


def test_development_starts_on_the_sample_directory_with_a_warning(tmp_path, caplog):
    content = _content_copy(tmp_path, sample=True)
    with caplog.at_level(logging.WARNING, logger="bot.settings"):
        Settings(environment="development", content_dir=content, data_dir=tmp_path)
    assert any("sample" in r.getMessage() and "offices.yaml" in r.getMessage() for r in caplog.records)


# --- fundguard content check ------------------------------------------------------------------------

def test_content_check_reports_problems_for_staff(tmp_path, monkeypatch):
    from bot.cli import main

    content = _content_copy(tmp_path, sample=True)
    monkeypatch.setenv("FUNDGUARD_CONTENT_DIR", str(content))
    monkeypatch.setenv("FUNDGUARD_DATA_DIR", str(tmp_path / "data"))
    runner = CliRunner()
    ok = runner.invoke(main, ["content", "check"])
    assert ok.exit_code == 0 and "content ok: 40 topics" in ok.output and "warning: offices.yaml" in ok.output

    greet = content / "topics" / "greet.yaml"
    raw = yaml.safe_load(greet.read_text(encoding="utf-8"))
    greet.write_text(yaml.safe_dump({**raw, "answer": "你好，有事问我。"}, allow_unicode=True), encoding="utf-8")
    cats = content / "tip_categories.yaml"
    cats.write_text(cats.read_text(encoding="utf-8").replace("words: [虚拟货币,", "words: [币, 虚拟货币,"),
                    encoding="utf-8")
    monkeypatch.setenv("FUNDGUARD_ENVIRONMENT", "production")
    bad = runner.invoke(main, ["content", "check"])
    assert bad.exit_code == 1
    assert "problem: greet: answer says '你'" in bad.output
    assert "人民币" in bad.output and "problem: offices.yaml is sample data" in bad.output
    report = check(content, "development")
    assert not any("offices.yaml" in p for p in report.problems) and report.warnings


def test_low_income_families_can_be_chosen_when_subscribing():
    from bot.dialogue.subscribe import match_audience

    assert match_audience(AUDIENCES["low_income"]) == "low_income"
    assert match_audience(AUDIENCES["elderly"]) == "elderly"  # the button text, as the subscribe answer says
