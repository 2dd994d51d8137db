"""The engine's routing with a fake NLU (a real NLUParser, not a mock): clarify, buttons, flows."""

from __future__ import annotations

import pytest

from bot.messages import Inbound
from nlu.base import Parse


class FixedNLU:
    """An NLU that answers what it is told, and records what it was asked."""

    name = "fixed"

    def __init__(self, ranking: list[tuple[str, float]]) -> None:
        self.ranking = tuple(ranking)
        self.seen: list[str] = []

    def parse(self, text: str) -> Parse:
        self.seen.append(text)
        return Parse(self.ranking[0][0], self.ranking[0][1], self.ranking, self.name)


@pytest.fixture
def engine_with(make_services, sqlite_url):
    made = []

    def build(nlu: FixedNLU):
        from bot.bootstrap import bootstrap
        from tests.conftest import make_settings

        svc = make_services(sqlite_url)
        svc2 = bootstrap(make_settings(svc.settings.data_dir.parent, sqlite_url), nlu=nlu, embedded=svc.embedded)
        made.extend([svc, svc2])
        return svc2

    yield build
    for svc in made:
        svc.db.dispose()


def ask(svc, text: str, user: str = "u", **kw):
    return svc.engine.handle(Inbound(channel="web", user=user, text=text, **kw))


def test_low_confidence_asks_which_topic_was_meant(engine_with):
    nlu = FixedNLU([("tactic_pension", 0.2), ("group_elderly", 0.18), ("out_of_scope", 0.1), ("red_flags", 0.05)])
    svc = engine_with(nlu)
    turn = ask(svc, "这个那个的咋弄")
    assert turn.topic == "tactic_pension" and "不太确定" in turn.replies[0].text
    labels = [b.label for b in turn.replies[0].buttons]
    assert labels == [svc.knowledge.title("tactic_pension"), svc.knowledge.title("group_elderly"),
                      svc.knowledge.title("red_flags")]
    # tapping a candidate answers it without asking the NLU again
    seen = len(nlu.seen)
    turn = ask(svc, labels[1])
    assert turn.topic == "group_elderly" and len(nlu.seen) == seen


def test_confident_out_of_scope_is_answered_politely(engine_with):
    svc = engine_with(FixedNLU([("out_of_scope", 0.9), ("greet", 0.05)]))
    turn = ask(svc, "今天天气咋样")
    assert turn.topic == "out_of_scope"
    assert turn.replies[0].text == svc.knowledge.answer("out_of_scope").text


def test_tip_text_never_reaches_the_nlu(engine_with):
    nlu = FixedNLU([("greet", 0.9)])
    svc = engine_with(nlu)
    for text in ("我要举报", "汉阴县", "秘密公司甲", "秘密做法乙", "跳过", "跳过", "跳过", "匿名", "确认"):
        ask(svc, text, user="tipster")
    receipt_turn = ask(svc, "查询 ABCDE-FGHJK-MNPQR-STVWX", user="tipster")
    assert receipt_turn.topic == "report_status"
    assert not [t for t in nlu.seen if "秘密" in t or "举报" in t or "ABCDE" in t]
    assert nlu.seen == []


def test_an_image_outside_a_tip_gets_a_note_on_what_the_bot_can_do(engine_with):
    svc = engine_with(FixedNLU([("greet", 0.9)]))
    turn = ask(svc, "", kind="image", media=b"\x89PNG")
    assert "举报" in turn.replies[0].text


def test_one_reading_of_a_tip_request_before_any_nlu(engine_with):
    from tests.integration.test_tip_opening import ASKING, POINTING, TELLING

    nlu = FixedNLU([("tactic_rural_coop", 0.9)])
    svc = engine_with(nlu)
    for i, said in enumerate(POINTING + TELLING):
        turn = ask(svc, said, user=f"opens-{i}")
        assert turn.topic == "report_start" and turn.expects is not None, said
    assert nlu.seen == []  # never to the NLU, which would have said tactic_rural_coop
    for i, said in enumerate(ASKING):
        assert ask(svc, said, user=f"asks-{i}").expects is None
    # questions about reporting are the NLU's to place (举报有奖励吗 is also a button: answered without it)
    assert nlu.seen == [said for said in ASKING if said != "举报有奖励吗"]


def test_a_question_about_reporting_the_nlu_cannot_place_is_how_to_report(engine_with):
    svc = engine_with(FixedNLU([("out_of_scope", 0.9), ("greet", 0.05)]))
    assert ask(svc, "咋报警，在哪报").topic == "report_how"
    assert ask(svc, "今天天气咋样").topic == "out_of_scope"
