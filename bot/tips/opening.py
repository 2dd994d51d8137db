"""Opening a tip with an office key: every part sealed to the office (audited), an evidence image, the
content alone for an export, and the chat to push a reply to (never shown)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.staff.labels import clean_value
from bot.store.models import AuditEntry, Tip, TipSeal
from bot.tips.casework import CaseError
from bot.tips.keyring import unreadable_cause
from bot.tips.sealing import SealingError, UnlockedOfficeKey

IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})


class NotSealedHere(LookupError):
    """The tip has no sealed copy for this office: its key cannot open it."""


@dataclass
class Evidence:
    seal_id: int
    mime: str
    size: int


@dataclass
class Opened:
    """A tip opened with an office key. `identity` is filled only when revealed (contact, channel)."""

    tip: Tip
    office_code: str
    content: dict[str, Any] = field(default_factory=dict)
    escalated: bool = False
    additions: list[dict[str, Any]] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    identity: dict[str, Any] | None = None
    parts: list[tuple[str, Any]] = field(default_factory=list)  # every opened part in order (for the CLI)
    unreadable: int = 0
    causes: list[str] = field(default_factory=list)  # why each unreadable part could not be opened (for staff)


def seals_for(session: Session, tip_id: int, office_code: str) -> list[TipSeal]:
    return list(session.scalars(select(TipSeal).where(TipSeal.tip_id == tip_id, TipSeal.office_code == office_code)
                                .order_by(TipSeal.id)))


def is_sealed_for(session: Session, tip_id: int, office_code: str) -> bool:
    return session.scalars(select(TipSeal.id).where(TipSeal.tip_id == tip_id, TipSeal.office_code == office_code,
                                                    TipSeal.part == "content").limit(1)).first() is not None


def open_tip(session: Session, tip: Tip, key: UnlockedOfficeKey, office_code: str, actor: str, *,
             reveal: bool = False, reason: str = "", audit_reason: str | None = None) -> Opened:
    """Open every part sealed to this office; audit the opening (and the reveal, which needs a reason)."""
    if reveal and not reason.strip():
        raise CaseError("查看举报人身份必须写明理由")
    seals = seals_for(session, tip.id, office_code)
    if not seals:
        raise NotSealedHere(f"tip {tip.id} is not sealed to office {office_code}")
    opened = Opened(tip, office_code)
    for seal in seals:
        if seal.part == "identity" and not reveal:
            continue
        try:
            body = key.open_json(seal.ciphertext)
        except (SealingError, ValueError):
            opened.unreadable += 1
            cause = unreadable_cause(session, seal, key)
            if cause not in opened.causes:
                opened.causes.append(cause)
            continue
        _place(opened, seal, body)
    session.add(AuditEntry(actor=actor, action="open", tip_id=tip.id, reason=audit_reason or (reason or None)))
    if reveal:
        session.add(AuditEntry(actor=actor, action="reveal_identity", tip_id=tip.id, reason=reason.strip()))
    return opened


def _place(opened: Opened, seal: TipSeal, body: Any) -> None:
    if seal.part == "evidence" and isinstance(body, dict):
        size = len(str(body.get("data", ""))) * 3 // 4
        opened.evidence.append(Evidence(seal.id, str(body.get("mime", "")), size))
        opened.parts.append((seal.part, {"mime": body.get("mime"), "bytes": size}))
        return
    body = clean_value(body)  # what a tipster typed is shown and exported without control characters
    opened.parts.append((seal.part, body))
    if seal.part == "content" and isinstance(body, dict):
        if body.get("escalated_by_addition"):
            opened.escalated = True
        elif not opened.content:
            opened.content = body
    elif seal.part == "addition" and isinstance(body, dict):
        opened.additions.append(body)
    elif seal.part == "note" and isinstance(body, dict):
        opened.notes.append(body)
    elif seal.part == "identity" and isinstance(body, dict):
        opened.identity = {"contact": body.get("contact"), "channel": body.get("channel")}


def evidence_image(session: Session, tip: Tip, key: UnlockedOfficeKey, office_code: str,
                   seal_id: int) -> tuple[bytes, str] | None:
    """One evidence image of this tip, opened with this office's key: (bytes, mime), or None."""
    seal = session.get(TipSeal, seal_id)
    if seal is None or seal.tip_id != tip.id or seal.office_code != office_code or seal.part != "evidence":
        return None
    try:
        body = key.open_json(seal.ciphertext)
        data = base64.b64decode(str(body.get("data", "")), validate=True)
    except (SealingError, ValueError, AttributeError, binascii.Error):
        return None
    mime = str(body.get("mime", ""))
    return data, (mime if mime in IMAGE_TYPES else "application/octet-stream")


def read_content(session: Session, tip: Tip, key: UnlockedOfficeKey, office_code: str, actor: str,
                 reason: str) -> dict[str, Any] | None:
    """Only the tip's content (for an export), audited as an opening; None if not sealed here."""
    seal = next((s for s in seals_for(session, tip.id, office_code) if s.part == "content"), None)
    if seal is None:
        return None
    try:
        body = key.open_json(seal.ciphertext)
    except (SealingError, ValueError):
        return None
    session.add(AuditEntry(actor=actor, action="open", tip_id=tip.id, reason=reason))
    return clean_value(body) if isinstance(body, dict) else None


def relay_target(session: Session, tip: Tip, key: UnlockedOfficeKey, office_code: str) -> tuple[str, str] | None:
    """(channel, chat id) of the chat that filed the tip, for pushing a reply; never shown to staff."""
    for seal in seals_for(session, tip.id, office_code):
        if seal.part == "identity":
            try:
                body = key.open_json(seal.ciphertext)
            except (SealingError, ValueError):
                return None
            if not isinstance(body, dict) or not body.get("channel") or not body.get("chat_id"):
                return None
            if "handle" in body and body["handle"] != tip.handle:
                return None  # an identity part moved onto another tip: never push to it
            return str(body["channel"]), str(body["chat_id"])
    return None
