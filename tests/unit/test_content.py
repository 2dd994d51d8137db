"""The content contract: every topic has an answer, training examples and held-out examples."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from bot.knowledge import WECHAT_PASSIVE_LIMIT, KnowledgeBase, TopicAnswer, load_topic_ids
from nlu.data import load_heldout, load_training

REPO = Path(__file__).resolve().parents[2]
SHARED_SPEC = REPO.parent / "shared" / "spec"
TOPICS = load_topic_ids(REPO / "content" / "spec" / "topics.yaml")
VALUES = {"city_office": "安康市防范和处置非法集资工作领导小组办公室（示例）", "city_phone": "0915-0000000（示例）"}


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return KnowledgeBase.load(REPO / "content", TOPICS, VALUES)


@pytest.mark.skipif(not SHARED_SPEC.exists(), reason="shared/ is not beside this clone")
@pytest.mark.parametrize("name", ["topics.yaml", "red_flags.yaml"])
def test_the_project_copy_of_the_contract_keeps_every_shared_id(name):
    key = name.removesuffix(".yaml")
    shared = yaml.safe_load((SHARED_SPEC / name).read_text(encoding="utf-8"))[key]
    ours = yaml.safe_load((REPO / "content" / "spec" / name).read_text(encoding="utf-8"))[key]
    assert set(shared) <= set(ours)


def test_every_topic_has_an_answer_with_two_to_four_buttons(kb):
    assert set(kb.topics) == set(TOPICS)
    for tid, topic in kb.topics.items():
        assert 2 <= len(topic.buttons) <= 4, tid
        assert kb.answer(tid).text.startswith(f"【{topic.title}】")


def test_every_reply_fits_one_wechat_passive_reply(kb):
    for tid in kb.topics:
        assert len(kb.answer(tid).text.encode()) <= WECHAT_PASSIVE_LIMIT, tid
        more = kb.more(tid)
        assert more is None or len(more.text.encode()) <= WECHAT_PASSIVE_LIMIT, tid


def test_answers_with_law_name_their_basis(kb):
    needs_basis = [t for t in TOPICS if t.startswith(("law_", "tactic_", "report_reward", "report_confidential"))]
    for tid in needs_basis + ["definition", "four_features"]:
        assert kb.topics[tid].basis, tid


def test_placeholders_are_filled(kb):
    for tid in kb.topics:
        assert "${" not in kb.answer(tid).text, tid


def test_an_over_long_answer_is_refused(kb):
    raw = kb.topics["greet"].model_dump()
    raw["answer"] = "很长" * 800
    with pytest.raises(ValueError, match="bytes"):
        KnowledgeBase(topics={**kb.topics, "greet": TopicAnswer.model_validate(raw)}, values={})


def test_a_missing_answer_is_refused(tmp_path):
    (tmp_path / "topics").mkdir()
    with pytest.raises(ValueError, match="without an answer"):
        KnowledgeBase.load(tmp_path, TOPICS, {})


def test_every_topic_has_training_and_heldout_examples():
    train = Counter(i for _, i in load_training(REPO / "nlu" / "rasa" / "data"))
    held = Counter(i for _, i in load_heldout(REPO / "nlu" / "heldout"))
    for tid in TOPICS:
        assert train[tid] >= 25, f"{tid}: {train[tid]} training examples"
        assert held[tid] >= 5, f"{tid}: {held[tid]} held-out examples"
    assert set(train) <= set(TOPICS) and set(held) <= set(TOPICS)


def test_no_heldout_example_is_trained_on():
    def key(t: str) -> str:
        return "".join(ch for ch in t if ch.isalnum())

    train = {key(t) for t, _ in load_training(REPO / "nlu" / "rasa" / "data")}
    leaked = [t for t, _ in load_heldout(REPO / "nlu" / "heldout") if key(t) in train]
    assert not leaked


def test_rasa_domain_lists_every_intent():
    domain = yaml.safe_load((REPO / "nlu" / "rasa" / "domain.yml").read_text(encoding="utf-8"))
    assert set(domain["intents"]) == set(TOPICS)
