"""The queue as a clerk works it: orders, overdue tips, subjects and text search over content opened with
the session's key, likely duplicates and merging them.

Content is sealed: the database cannot search or compare it. Everything here that reads content does so in
memory, with the office key the member of staff unlocked, and the caller audits it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from bot.store.console_models import TipCase
from bot.store.models import AuditEntry, Tip, TipEvent, TipSeal, utcnow
from bot.tips.casework import CaseError, seal_like_tip
from bot.tips.sealing import SealingError, UnlockedOfficeKey

ORDERS = {"urgent": "紧急优先", "newest": "最新收到", "oldest": "最早收到", "updated": "最近更新"}
OPEN = ("new", "checking", "to_police", "to_regulator")
SEARCHED = ("subject", "description", "region_text", "first", "amount_text", "participants_text")
_NOISE = re.compile(r"[\W_]+")
_GENERIC = ("有限责任公司", "有限公司", "股份公司", "公司", "专业合作社", "合作社", "中心", "集团")


@dataclass(frozen=True)
class Deadlines:
    """A new tip not acted on within `first_action_days`, or an open one not updated within `open_days`."""

    first_action_days: int = 3
    open_days: int = 30


def order_by(order: str) -> list[Any]:
    if order == "newest":
        return [Tip.created_at.desc(), Tip.id.desc()]
    if order == "oldest":
        return [Tip.created_at.asc(), Tip.id.asc()]
    if order == "updated":
        return [Tip.updated_at.desc(), Tip.id.desc()]
    return [Tip.urgent.desc(), Tip.created_at.desc(), Tip.id.desc()]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)


def overdue(tip: Tip, case: TipCase | None, d: Deadlines, now: datetime | None = None) -> str | None:
    """Why this tip is overdue, in words for the queue; None when it is not."""
    now = now or utcnow()
    if tip.status == "new" and not (case and case.first_action_at) and \
            _aware(tip.created_at) < now - timedelta(days=d.first_action_days):
        return f"超过{d.first_action_days}天未处理"
    if tip.status in OPEN and _aware(tip.updated_at) < now - timedelta(days=d.open_days):
        return f"超过{d.open_days}天未更新"
    return None


def overdue_clause(d: Deadlines, now: datetime | None = None) -> ColumnElement[bool]:
    """The same rule as `overdue`, for the database (the queue joins TipCase)."""
    now = now or utcnow()
    return or_(and_(Tip.status == "new", TipCase.first_action_at.is_(None),
                    Tip.created_at < now - timedelta(days=d.first_action_days)),
               and_(Tip.status.in_(OPEN), Tip.updated_at < now - timedelta(days=d.open_days)))


def contents(session: Session, tip_ids: list[int], key: UnlockedOfficeKey,
             office_code: str) -> dict[int, dict[str, Any]]:
    """The content part of each tip sealed to this office (one query; unreadable ones are left out)."""
    if not tip_ids:
        return {}
    seals = session.scalars(select(TipSeal).where(TipSeal.tip_id.in_(tip_ids), TipSeal.office_code == office_code,
                                                  TipSeal.part == "content").order_by(TipSeal.id))
    out: dict[int, dict[str, Any]] = {}
    for seal in seals:
        if seal.tip_id in out:
            continue  # the first content part is the tip; later ones are escalation markers
        try:
            body = key.open_json(seal.ciphertext)
        except (SealingError, ValueError):
            continue
        if isinstance(body, dict):
            out[seal.tip_id] = body
    return out


def fold(text: str) -> str:
    return _NOISE.sub("", unicodedata.normalize("NFKC", text or "")).casefold()


def matches(content: dict[str, Any], query: str) -> bool:
    """Every word of the query appears in the tip's own words (spaces separate words)."""
    hay = fold(" ".join(str(content.get(k) or "") for k in SEARCHED))
    return all(fold(word) in hay for word in query.split() if fold(word))


def subject_key(subject: str) -> str:
    key = fold(subject)
    for word in _GENERIC:
        if key.endswith(word) and len(key) > len(word) + 1:
            return key[: -len(word)]
    return key


def _bigrams(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)} or {text}


def similar(a: str, b: str) -> bool:
    """The same subject written twice: equal, one inside the other, or mostly the same pairs of characters."""
    ka, kb = subject_key(a), subject_key(b)
    if len(ka) < 2 or len(kb) < 2:
        return False
    if ka == kb or (min(len(ka), len(kb)) >= 4 and (ka in kb or kb in ka)):
        return True
    x, y = _bigrams(ka), _bigrams(kb)
    return len(x & y) / len(x | y) >= 0.6


def duplicate_groups(subjects: dict[int, str]) -> list[list[int]]:
    """Groups of tip ids (oldest first) whose subjects look alike; each tip in at most one group."""
    ids = sorted(subjects)
    parent = {i: i for i in ids}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for n, a in enumerate(ids):
        for b in ids[n + 1:]:
            if find(a) != find(b) and similar(subjects[a], subjects[b]):
                parent[find(b)] = find(a)
    groups: dict[int, list[int]] = {}
    for i in ids:
        groups.setdefault(find(i), []).append(i)
    return [g for g in groups.values() if len(g) > 1]


def merge(session: Session, main: Tip, dup: Tip, actor: str) -> None:
    """Fold `dup` into `main`: `dup` is closed with the reason (sealed like the tip), both histories say so."""
    if main.id == dup.id:
        raise CaseError("不能把线索合并到它自己")
    if dup.status not in OPEN:
        raise CaseError(f"线索#{dup.id}已经办结，不需要合并")
    event = TipEvent(tip_id=dup.id, kind="merge", actor=actor, detail=f"into:{main.id}")
    session.add(event)
    session.add(TipEvent(tip_id=main.id, kind="merge", actor=actor, detail=f"from:{dup.id}"))
    session.flush()
    seal_like_tip(session, dup, "note", {"kind": "merge", "event": event.id, "by": actor, "at": utcnow().isoformat(),
                                         "text": f"与线索#{main.id}反映的是同一件事，已并入#{main.id}办理。"})
    session.add(TipEvent(tip_id=dup.id, kind="status", actor=actor, detail=f"{dup.status}>closed"))
    dup.status, dup.closed_at = "closed", utcnow()
    main.updated_at = utcnow()
    session.add(AuditEntry(actor=actor, action="merge", tip_id=dup.id, reason=f"并入#{main.id}"))
