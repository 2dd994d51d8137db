"""How well the bot answers the person: described situations and multi-turn dialogues, through the engine.

`fundguard verdict eval [--part dev|holdout|all]` builds the bot on a throw-away SQLite database (the
embedded NLU, the project's content) and sends every message as a person would, over the same engine as
every channel. It prints:

- situations: flag precision / recall / F1 (micro), the share of risky situations whose reply carries a
  verdict (red_flags not empty), legitimate situations with no flag (must be all), and how often the bot
  asked "which topic did you mean" instead of answering;
- dialogues: turns right (topic among the accepted ones, verdict present or absent as labelled, required
  flags, a tip offered pre-filled) and whole dialogues right.

The sets (tests/data/situations_heldout.yaml + dialogues_heldout.yaml, and situations_blind2.yaml +
dialogues_blind2.yaml written later by another hand, and *_blind3.yaml by a third, in the session that tuned on
its odd half) were written by someone who had not seen the code or the
training data. Items with an odd number are the dev half (errors may be read and
tuned on); items with an even number are the holdout half (scored only; its errors are never printed).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from bot.messages import Inbound, Turn

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
SITUATIONS = DATA / "situations_heldout.yaml"
DIALOGUES = DATA / "dialogues_heldout.yaml"
# two sets, each written blind by someone who had not seen the code or the data, at different times
SETS = {"heldout": (SITUATIONS, DIALOGUES),
        "blind2": (DATA / "situations_blind2.yaml", DATA / "dialogues_blind2.yaml"),
        "blind3": (DATA / "situations_blind3.yaml", DATA / "dialogues_blind3.yaml"),
        "blind4": (DATA / "situations_blind4.yaml", DATA / "dialogues_blind4.yaml"),
        "blind5": (DATA / "situations_blind5.yaml", DATA / "dialogues_blind5.yaml"),
        "blind6": (DATA / "situations_blind6.yaml", DATA / "dialogues_blind6.yaml")}
BARS = {"verdict_share": 0.95, "flag_f1": 0.90, "legit_clean": 1.0, "turns": 0.90}
CLARIFY_PREFIX = "我不太确定您想问的是哪一个"


def load(path: Path | None) -> list[dict[str, Any]]:
    if path is None:  # a set with situations only
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a list")
    return data


def in_part(item: Mapping[str, Any], part: str) -> bool:
    """dev: odd-numbered ids; holdout: even-numbered; all: both."""
    if part == "all":
        return True
    digits = re.findall(r"\d+", str(item.get("id", "")))
    odd = bool(digits) and int(digits[-1]) % 2 == 1
    return odd if part == "dev" else not odd


class Bot:
    """The engine on a throw-away database, fed as a person would."""

    def __init__(self) -> None:
        from bot.bootstrap import bootstrap
        from bot.settings import Settings

        self._tmp = tempfile.TemporaryDirectory(prefix="fg-verdict-")
        tmp = Path(self._tmp.name)
        settings = Settings(environment="test", data_dir=tmp, database_url=f"sqlite:///{tmp / 'eval.db'}",
                            secret_key="verdict-eval-" + "k" * 40, kdf_strength="min")
        from bot.store.db import upgrade

        upgrade(settings.database_url)
        from nlu.embedded import EmbeddedNLU

        embedded = EmbeddedNLU.load_or_train(settings.nlu_data_dir, REPO / "var" / "cache")
        self.services = bootstrap(settings, embedded=embedded)

    def say(self, user: str, text: str) -> Turn:
        engine = self.services.engine
        assert engine is not None
        return engine.handle(Inbound(channel="web", user=user, text=text))  # synchronous: no event loop needed

    def close(self) -> None:
        self.services.db.dispose()
        self._tmp.cleanup()


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def score_situations(bot: Bot, items: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    tp = fp = fn = 0
    risky = verdicts = legit = clean = clarified = 0
    errors = []
    for n, item in enumerate(items):
        turn = bot.say(f"s-{item.get('id')}-{n}", str(item["text"]))
        got, want = set(turn.red_flags), set(item.get("flags") or [])
        tp, fp, fn = tp + len(got & want), fp + len(got - want), fn + len(want - got)
        clarified += any(r.text.startswith(CLARIFY_PREFIX) for r in turn.replies)
        if item.get("risky"):
            risky += 1
            verdicts += bool(got)
        else:
            legit += 1
            clean += not got
        if got != want:
            errors.append({"id": item.get("id"), "text": item["text"], "missed": sorted(want - got),
                           "extra": sorted(got - want), "topic": turn.topic})
    p, r, f1 = _prf(tp, fp, fn)
    total = risky + legit
    return {"n": total, "precision": p, "recall": r, "f1": f1, "risky": risky,
            "verdict_share": verdicts / risky if risky else 1.0, "legit": legit, "legit_clean": clean,
            "clarify_share": clarified / total if total else 0.0, "errors": errors}


def _turn_ok(turn: Turn, want: Mapping[str, Any]) -> list[str]:
    wrong = []
    topics = want.get("topics")
    if topics and turn.topic not in topics:
        wrong.append(f"topic {turn.topic} not in {topics}")
    if "verdict" in want and bool(turn.red_flags) != bool(want["verdict"]):
        wrong.append(f"verdict {'given' if turn.red_flags else 'missing'}")
    missing = set(want.get("flags_include") or []) - set(turn.red_flags)
    if missing:
        wrong.append(f"flags missing {sorted(missing)}")
    if want.get("tip_prefilled"):
        from bot.tips.prompts import PREFILL

        if not any(PREFILL.split("{}")[0] in r.text for r in turn.replies):
            wrong.append("tip not offered pre-filled")
    return wrong


def score_dialogues(bot: Bot, dialogues: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    turns = turns_ok = whole = whole_ok = clarified = 0
    errors = []
    for n, dialogue in enumerate(dialogues):
        all_ok = True
        for i, want in enumerate(dialogue["turns"]):
            turn = bot.say(f"d-{dialogue.get('id')}-{n}", str(want["text"]))  # one person per dialogue
            wrong = _turn_ok(turn, want)
            turns += 1
            turns_ok += not wrong
            clarified += any(r.text.startswith(CLARIFY_PREFIX) for r in turn.replies)
            if wrong:
                all_ok = False
                errors.append({"id": dialogue.get("id"), "turn": i + 1, "text": want["text"], "wrong": wrong})
        whole += 1
        whole_ok += all_ok
    return {"turns": turns, "turns_ok": turns_ok, "turn_share": turns_ok / turns if turns else 1.0,
            "dialogues": whole, "dialogues_ok": whole_ok, "clarify_share": clarified / turns if turns else 0.0,
            "errors": errors}


def report(part: str, sit: Mapping[str, Any], dia: Mapping[str, Any], show_errors: bool) -> str:
    lines = [
        f"situations ({part}): {sit['n']} ({sit['risky']} risky, {sit['legit']} legitimate)",
        f"  flags precision {sit['precision']:.2f}  recall {sit['recall']:.2f}  F1 {sit['f1']:.2f}",
        f"  risky situations with a verdict: {sit['verdict_share']:.3f}",
        f"  legitimate situations with no flag: {sit['legit_clean']}/{sit['legit']}",
        f"  clarifying questions instead of an answer: {sit['clarify_share']:.3f}",
        f"dialogues ({part}): {dia['dialogues']} ({dia['turns']} turns)",
        f"  turns right: {dia['turns_ok']}/{dia['turns']} = {dia['turn_share']:.3f}",
        f"  whole dialogues right: {dia['dialogues_ok']}/{dia['dialogues']}",
        f"  clarifying questions instead of an answer: {dia['clarify_share']:.3f}",
    ]
    met = (sit["verdict_share"] >= BARS["verdict_share"] and sit["f1"] >= BARS["flag_f1"]
           and sit["legit_clean"] == sit["legit"] and dia["turn_share"] >= BARS["turns"])
    lines.append(f"bars (verdict ≥ {BARS['verdict_share']}, F1 ≥ {BARS['flag_f1']}, every legitimate one clean, "
                 f"turns ≥ {BARS['turns']}): {'met' if met else 'NOT met'}")
    if show_errors:
        for e in sit["errors"]:
            lines.append(f"  - {e['id']} {e['text'][:50]}… missed {e['missed']} extra {e['extra']} ({e['topic']})")
        for e in dia["errors"]:
            lines.append(f"  - {e['id']}#{e['turn']} {e['text'][:30]}: {'; '.join(e['wrong'])}")
    return "\n".join(lines)


def main(parts: Sequence[str] = ("dev", "holdout"), sets: Sequence[str] = tuple(SETS),
         show_errors: bool = True) -> int:
    bot = Bot()
    try:
        for name in sets:
            sit_all, dia_all = load(SETS[name][0]), load(SETS[name][1])
            for part in parts:
                sit = score_situations(bot, [s for s in sit_all if in_part(s, part)])
                dia = score_dialogues(bot, [d for d in dia_all if in_part(d, part)])
                print(report(f"{name} {part}", sit, dia, show_errors=show_errors and part == "dev"))
                print()
    finally:
        bot.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
