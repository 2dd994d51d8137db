"""`fundguard verdict eval`: the blind sets tuned on keep the bars of issue 13, whole. Each was scored before it
was read (first scores in the README); a set not yet tuned on is scored in the README only, never asserted on."""

from __future__ import annotations

import pytest

from bot.riskcheck import verdict_eval as ev


@pytest.fixture(scope="module")
def bot():  # type: ignore[no-untyped-def]
    b = ev.Bot()
    yield b
    b.close()


TUNED = ("heldout", "blind2", "blind3", "blind4", "blind5", "blind6")


@pytest.mark.parametrize("name", TUNED)
def test_a_tuned_set_meets_the_bars_whole(bot, name):
    situations, dialogues = ev.SETS[name]
    sit = ev.score_situations(bot, ev.load(situations))
    assert sit["verdict_share"] >= ev.BARS["verdict_share"], sit["errors"][:5]
    assert sit["f1"] >= ev.BARS["flag_f1"]
    assert sit["legit_clean"] == sit["legit"], [e for e in sit["errors"] if e["extra"]][:5]
    dia = ev.score_dialogues(bot, ev.load(dialogues))
    assert dia["turn_share"] >= ev.BARS["turns"], dia["errors"][:5]


def test_the_halves_split_the_sets_without_overlap():
    for situations, _ in ev.SETS.values():
        items = ev.load(situations)
        dev = {i["id"] for i in items if ev.in_part(i, "dev")}
        hold = {i["id"] for i in items if ev.in_part(i, "holdout")}
        assert dev and hold and not dev & hold and len(dev) + len(hold) == len(items)
