"""`fundguard verdict eval`: the dev halves of both blind sets keep the bars of issue 13 (the holdout halves
are reported in the README, never asserted on, so that nobody tunes to them)."""

from __future__ import annotations

import pytest

from bot.riskcheck import verdict_eval as ev


@pytest.fixture(scope="module")
def bot():  # type: ignore[no-untyped-def]
    b = ev.Bot()
    yield b
    b.close()


TUNED_DIALOGUES = ("heldout", "blind2", "blind3", "blind4")


@pytest.mark.parametrize("name", ["heldout", "blind2", "blind3", "blind4"])
def test_the_dev_half_meets_the_bars(bot, name):
    situations, dialogues = ev.SETS[name]
    sit = ev.score_situations(bot, [s for s in ev.load(situations) if ev.in_part(s, "dev")])
    assert sit["verdict_share"] >= ev.BARS["verdict_share"], sit["errors"][:5]
    assert sit["f1"] >= ev.BARS["flag_f1"]
    assert sit["legit_clean"] == sit["legit"], [e for e in sit["errors"] if e["extra"]][:5]
    if name in TUNED_DIALOGUES:
        dia = ev.score_dialogues(bot, [d for d in ev.load(dialogues) if ev.in_part(d, "dev")])
        assert dia["turn_share"] >= ev.BARS["turns"], dia["errors"][:5]


def test_the_halves_split_the_sets_without_overlap():
    for situations, _ in ev.SETS.values():
        items = ev.load(situations)
        dev = {i["id"] for i in items if ev.in_part(i, "dev")}
        hold = {i["id"] for i in items if ev.in_part(i, "holdout")}
        assert dev and hold and not dev & hold and len(dev) + len(hold) == len(items)
