"""Matching one sentence: a flag's phrase, negations before it, warnings and general questions."""

from __future__ import annotations

import re

from bot.riskcheck.context import ContextWords
from bot.riskcheck.lexicon import FlagEntry
from bot.riskcheck.patterns import PUNCT


def _mask(text: str, pattern: re.Pattern[str] | None) -> str:
    """`text` with every match of `pattern` blanked out (same length, so offsets still hold)."""
    if pattern is None:
        return text
    return pattern.sub(lambda m: "#" * len(m.group()), text)


def is_negated(sentence: str, start: int, ctx: ContextWords) -> bool:
    """Whether a negation ends right before `start` in the same clause: a one-character one (不, 非)
    directly, a longer one (不承诺, 没有) at most two characters before (没有任何返利)."""
    pre = sentence[max(0, start - 8) : start]
    for i in range(len(pre) - 1, -1, -1):
        if pre[i] in PUNCT:
            pre = pre[i + 1 :]
            break
    for word in ctx.negation_exceptions:
        pre = pre.replace(word, "#" * len(word))
    for word in ctx.negations:
        pos = pre.rfind(word)
        if pos >= 0 and len(pre) - (pos + len(word)) <= (2 if len(word) > 1 else 0):
            return True
    clause = sentence[max(0, start - 30) : start]  # 本行从未通过微信群、短信推销高收益理财
    cut = max((clause.rfind(c) for c in ",;:!?。，；：！？"), default=-1)
    return any(w in clause[cut + 1 :] for w in ctx.clause_negations)


def find_phrase(entry: FlagEntry, sentence: str, ctx: ContextWords) -> tuple[int, int] | None:
    """The first span of `sentence` that raises this flag: not inside an excluded word, not negated."""
    masked = _mask(sentence, entry.excluder)
    for m in entry.matcher.finditer(masked):
        if m.end() > m.start() and not is_negated(sentence, m.start(), ctx):
            return m.start(), m.end()
    return None


def is_warning(sentence: str, ctx: ContextWords) -> bool:
    """A sentence that warns against, or reports on, what it names; a denied cue (不是骗人的) is none."""
    masked = _mask(sentence, ctx.warning_exception_re)
    for m in ctx.warning_re.finditer(masked):
        before = masked[max(0, m.start() - 6) : m.start()]
        if not any(before.endswith(w) or before[:-1].endswith(w) for w in ctx.cue_negations):
            return True
    return False


def is_generic_question(sentence: str, ctx: ContextWords) -> bool:
    """A question about a kind of product ("保本理财是不是都不靠谱"), quoting no concrete offer."""
    return ctx.question_re.search(sentence) is not None and ctx.claim_re.search(sentence) is None
