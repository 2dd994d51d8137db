"""Measures the risk check on the labelled sets in tests/data.

Sets: `main` (riskcheck_cases.yaml, what the lexicon is tuned on), `fresh` (riskcheck_fresh.yaml, a blind
set in other styles, scored once before it joined tuning), `holdout` (riskcheck_holdout.yaml, never
tuned on) and `street` (riskcheck_street.yaml, pitches and notices as people really forward them: emoji,
voice input, dialect, homophones; scored once before it joined tuning). Per set: per-flag precision,
recall and support; overall micro precision and recall; the share of legitimate texts (expected flags: [])
that raise no flag; and the texts where check and label disagree.
`main()` backs `fundguard riskcheck eval`; it returns 0 when the main set meets the bars (BARS), else 1.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from bot.riskcheck.check import RiskChecker

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA = REPO_ROOT / "tests" / "data"
SETS = {
    "main": DATA / "riskcheck_cases.yaml",
    "fresh": DATA / "riskcheck_fresh.yaml",
    "holdout": DATA / "riskcheck_holdout.yaml",
    "street": DATA / "riskcheck_street.yaml",
}
TITLES = {
    "main": "main labelled set (tuned on)",
    "fresh": "fresh blind set (scored once before tuning, tuned on since)",
    "holdout": "holdout (never tuned on)",
    "street": "street set (forwards as people send them; scored once before tuning, tuned on since)",
}
DEFAULT_CASES = SETS["main"]
DEFAULT_LEXICON = REPO_ROOT / "content" / "red_flags.yaml"
BARS = {"precision": 0.90, "recall": 0.85, "legit_clean": 1.0}


def load_cases(path: Path | str = DEFAULT_CASES) -> list[dict[str, Any]]:
    """The labelled texts of one set file; each case a {"text": str, "flags": [ids]}."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, Mapping) or set(data) != {"cases"}:
        raise ValueError(f"{path}: expected a mapping with only `cases`")
    out = []
    for i, item in enumerate(data["cases"] or []):
        if not isinstance(item, Mapping) or not isinstance(item.get("text"), str):
            raise ValueError(f"{path}: cases[{i}] needs a `text`")
        flags = item.get("flags")
        if not isinstance(flags, list):
            raise ValueError(f"{path}: cases[{i}] needs `flags` (a list, [] for a legitimate text)")
        out.append({"text": item["text"], "flags": list(flags)})
    return out


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def evaluate(checker: RiskChecker, cases: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    flag_ids = list(checker.lexicon.flags)
    counts = {fid: {"tp": 0, "fp": 0, "fn": 0} for fid in flag_ids}
    errors, n, exact, legit, legit_clean = [], 0, 0, 0, 0
    for case in cases:
        expected = set(case["flags"])
        unknown = expected - set(flag_ids)
        if unknown:
            raise ValueError(f"case {case['text'][:20]!r}: unknown flag id(s) {sorted(unknown)}")
        got = set(checker.analyse(case["text"]).flag_ids)
        n += 1
        for fid in flag_ids:
            if fid in got and fid in expected:
                counts[fid]["tp"] += 1
            elif fid in got:
                counts[fid]["fp"] += 1
            elif fid in expected:
                counts[fid]["fn"] += 1
        exact += got == expected
        if not expected:
            legit += 1
            legit_clean += not got
        if got != expected:
            errors.append({"text": case["text"], "missed": sorted(expected - got, key=flag_ids.index),
                           "extra": sorted(got - expected, key=flag_ids.index)})
    per_flag = {
        fid: {**c, "support": c["tp"] + c["fn"], "precision": _ratio(c["tp"], c["tp"] + c["fp"]),
              "recall": _ratio(c["tp"], c["tp"] + c["fn"])}
        for fid, c in counts.items()
    }
    tp = sum(c["tp"] for c in counts.values())
    fp = sum(c["fp"] for c in counts.values())
    fn = sum(c["fn"] for c in counts.values())
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    f1 = 2 * precision * recall / (precision + recall) if precision and recall else None
    return {
        "n": n,
        "per_flag": per_flag,
        "micro": {"tp": tp, "fp": fp, "fn": fn, "precision": precision, "recall": recall, "f1": f1},
        "legit": {"count": legit, "clean": legit_clean, "share": _ratio(legit_clean, legit)},
        "exact": _ratio(exact, n),
        "errors": errors,
    }


def meets_bars(result: Mapping[str, Any]) -> bool:
    micro, legit = result["micro"], result["legit"]
    return (
        (micro["precision"] or 0) >= BARS["precision"]
        and (micro["recall"] or 0) >= BARS["recall"]
        and (legit["share"] if legit["share"] is not None else 1.0) >= BARS["legit_clean"]
    )


def _fmt(value: float | None) -> str:
    return "   -" if value is None else f"{value:.2f}"


def format_report(result: Mapping[str, Any], title: str = "risk check", show_errors: bool = True) -> str:
    lines = [f"{title}: {result['n']} texts", f"{'flag':<24}{'prec':>6}{'recall':>8}{'support':>9}{'fp':>5}"]
    for fid, c in result["per_flag"].items():
        lines.append(f"{fid:<24}{_fmt(c['precision']):>6}{_fmt(c['recall']):>8}{c['support']:>9}{c['fp']:>5}")
    m, legit = result["micro"], result["legit"]
    lines.append(
        f"{'overall (micro)':<24}{_fmt(m['precision']):>6}{_fmt(m['recall']):>8}{m['tp'] + m['fn']:>9}{m['fp']:>5}"
    )
    lines.append(f"micro F1 {_fmt(m['f1'])}; texts with exactly the expected flags: {_fmt(result['exact'])}")
    lines.append(f"legitimate texts with no flag: {legit['clean']}/{legit['count']} ({_fmt(legit['share'])})")
    if show_errors and result["errors"]:
        lines.append("disagreements:")
        for e in result["errors"]:
            parts = ([f"missed {','.join(e['missed'])}"] if e["missed"] else []) + (
                [f"extra {','.join(e['extra'])}"] if e["extra"] else [])
            lines.append(f"  - {e['text'][:40].replace(chr(10), ' ')}… {'; '.join(parts)}")
    return "\n".join(lines)


def main(sets: Sequence[str] = tuple(SETS), lexicon_path: Path | str | None = None,
         show_errors: bool = True, paths: Mapping[str, Path | str] | None = None) -> int:
    """Print the report of each named set; 0 when the main set (if among them) meets the bars."""
    checker = RiskChecker.from_file(lexicon_path or DEFAULT_LEXICON)
    files = {**SETS, **(paths or {})}
    ok = True
    for name in sets:
        result = evaluate(checker, load_cases(files[name]))
        print(format_report(result, f"{name}: {TITLES.get(name, name)}", show_errors))
        print()
        if name == "main":
            ok = meets_bars(result)
            print(f"bars on main (precision ≥ {BARS['precision']}, recall ≥ {BARS['recall']}, "
                  f"every legitimate text clean): {'met' if ok else 'NOT met'}\n")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
