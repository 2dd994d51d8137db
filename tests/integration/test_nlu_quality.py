"""The embedded NLU on the held-out files: part1+2 (the foundation bar) and part3 (the hardest styles)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from sklearn.feature_extraction.text import CountVectorizer

from bot.settings import Settings
from bot.textnorm import normalise, to_simplified
from nlu import embedded
from nlu.data import load_heldout, load_training
from nlu.evaluate import evaluate_sync, format_result, load_parts

REPO = Path(__file__).resolve().parents[2]
HELDOUT = REPO / "nlu" / "heldout"
TOPICS = REPO / "content" / "topics"
THRESHOLD = Settings.model_fields["nlu_threshold"].default
_EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf]")


def _key(text: str) -> str:
    return "".join(ch for ch in normalise(text) if ch.isalnum())


def test_part1_and_part2_meet_the_bar(embedded_nlu):
    result = evaluate_sync(embedded_nlu, load_parts(HELDOUT, ["part1", "part2"]))
    print(format_result(result, threshold=THRESHOLD))
    assert result.total >= 8 * 40
    assert result.accuracy >= 0.93, format_result(result)


def test_part3_hard_styles_meet_their_own_bar(embedded_nlu):
    result = evaluate_sync(embedded_nlu, load_parts(HELDOUT, ["part3"]))
    print(format_result(result, threshold=THRESHOLD))
    assert result.total >= 240
    assert result.accuracy >= 0.92, format_result(result)
    assert result.oos_precision >= 0.85 and result.oos_recall >= 0.85


def test_the_clarify_threshold_splits_where_it_should(embedded_nlu):
    result = evaluate_sync(embedded_nlu, load_parts(HELDOUT, ["part1", "part2", "part3"]))
    # few held-out questions end in a clarifying reply, and what is answered directly is nearly always right
    assert result.share_below(THRESHOLD) <= 0.10
    assert result.accuracy_above(THRESHOLD) >= 0.95
    assert result.accuracy_below(THRESHOLD) < result.accuracy_above(THRESHOLD)


def test_part3_covers_every_intent_in_the_hard_styles():
    pairs = load_parts(HELDOUT, ["part3"])
    topics = {p.stem for p in TOPICS.glob("*.yaml")}
    counts = Counter(intent for _, intent in pairs)
    assert set(counts) == topics
    assert min(counts.values()) >= 6
    texts = [t for t, _ in pairs]
    styles = {
        "traditional": sum(to_simplified(t) != t for t in texts),
        "emoji": sum(bool(_EMOJI.search(t)) for t in texts),
        "long rambling": sum(len(t) >= 60 for t in texts),
        "voice input, no punctuation": sum(len(t) >= 25 and not re.search(r"[\s，。？！,.?!]", t) for t in texts),
        "very short": sum(len(t) <= 7 for t in texts),
    }
    minimum = {"traditional": 25, "emoji": 15, "long rambling": 25, "voice input, no punctuation": 25,
               "very short": 25}
    assert all(styles[name] >= n for name, n in minimum.items()), styles


def test_no_heldout_example_or_near_duplicate_is_trained_on():
    held = load_heldout(HELDOUT)
    train = load_training(REPO / "nlu" / "rasa" / "data")
    assert {path.stem for path in HELDOUT.glob("*.yml")} >= {"part1", "part2", "part3"}
    train_keys = {_key(t) for t, _ in train}
    assert not [t for t, _ in held if _key(t) in train_keys]
    grams = CountVectorizer(analyzer="char", ngram_range=(3, 3), binary=True, preprocessor=_key)
    grams.fit([t for t, _ in train + held])  # both sides' n-grams, or unseen ones would not count
    train_m = grams.transform([t for t, _ in train])
    held_m = grams.transform([t for t, _ in held])
    shared = (held_m @ train_m.T).toarray()
    sizes_h = held_m.sum(axis=1).A1[:, None]
    sizes_t = train_m.sum(axis=1).A1[None, :]
    jaccard = shared / (sizes_h + sizes_t - shared).clip(min=1)
    near = [(held[i][0], train[jaccard[i].argmax()][0]) for i in range(len(held)) if jaccard[i].max() >= 0.7]
    assert not near, near[:5]


def test_folding_maps_dialect_and_misheard_forms():
    assert embedded.prepare("點樣查私募基金有冇備案？") == "怎么查私募基金有没有备案"
    assert embedded.prepare("唔該唔好再推送俾我") == "请不要再推送给我"
    assert embedded.prepare("保本保习 稳赚不陪") == "保本保息 稳赚不赔"
    assert embedded.prepare("俺晓得咋办了") == "我知道怎么办了"
    for untouched in ("劳动仲裁", "联系客服", "关系很好", "系统升级"):
        assert embedded.prepare(untouched) == untouched


def test_a_changed_synonym_table_does_not_load_a_stale_model(tmp_path, monkeypatch):
    data = tmp_path / "data"
    (data / "nlu").mkdir(parents=True)
    lines = ["version: \"3.1\"", "nlu:"]
    examples = (("greet", ["你好", "您好", "早上好"]), ("thanks_bye", ["谢谢", "多谢", "再见"]),
                ("report_start", ["我要举报", "举报一个公司", "我想举报"]))
    for intent, words in examples:
        lines += [f"- intent: {intent}", "  examples: |"] + [f"    - {w}" for w in words]
    (data / "nlu" / "tiny.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    cache = tmp_path / "cache"
    embedded.EmbeddedNLU.load_or_train(data, cache)
    first = {p.name for p in cache.glob("nlu-*.pkl")}
    table = tmp_path / "synonyms.yaml"
    table.write_text(embedded.SYNONYMS.read_text(encoding="utf-8") + "  哈喽: 你好\n", encoding="utf-8")
    monkeypatch.setattr(embedded, "SYNONYMS", table)
    embedded._folds.cache_clear()
    try:
        model = embedded.EmbeddedNLU.load_or_train(data, cache)
        assert model.parse_sync("哈喽").intent == "greet"
    finally:
        embedded._folds.cache_clear()
    assert len({p.name for p in cache.glob("nlu-*.pkl")} - first) == 1


@pytest.mark.parametrize("text", ["今天天气怎么样", "红烧肉怎么做好吃", "帮我订一张去西安的火车票"])
def test_out_of_scope_is_recognised(embedded_nlu, text):
    assert embedded_nlu.parse_sync(text).intent == "out_of_scope", text


def test_the_fast_scorer_gives_the_pipelines_exact_scores(embedded_nlu):
    import numpy as np

    texts = [t for t, _ in load_heldout(HELDOUT)][:200] + ["", "🙂🙂", "zzzz qqq", "1234567"]
    for text in texts:
        prepared = embedded.prepare(text)
        expected = embedded_nlu._pipeline.decision_function([prepared])[0]
        np.testing.assert_allclose(embedded_nlu._scorer.scores(prepared), expected, rtol=0, atol=1e-9)


def test_a_question_asked_again_is_parsed_once(embedded_nlu):
    text = "俺想问问那个存款保险到底保多少钱"
    before = embedded_nlu._parsed.cache_info().hits
    first, second = embedded_nlu.parse(text), embedded_nlu.parse(text)
    assert first is second and embedded_nlu._parsed.cache_info().hits == before + 1
    assert first == embedded_nlu._parse(text)  # what the cache gives is what the scorer gives
