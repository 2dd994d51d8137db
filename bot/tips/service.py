"""Filing tips, looking them up by receipt, adding information, relaying replies, retention.

The app server writes tips sealed to the offices' public keys and cannot read them back.
"""

from __future__ import annotations

import base64
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot import metrics
from bot.offices import OfficeDirectory
from bot.store.models import Tip, TipEvent, TipSeal, utcnow
from bot.tips.ciphers import DraftCipher
from bot.tips.extract import Categories, is_urgent
from bot.tips.keys import NoOfficeKey, public_keys
from bot.tips.notify import Notifier, TipNotice
from bot.tips.receipts import ReceiptHasher, format_receipt, new_receipt
from bot.tips.sealing import fingerprint, seal_json

log = logging.getLogger(__name__)

STATUS_LABELS = {
    "new": "新收到", "checking": "核查中", "to_police": "已移交公安", "to_regulator": "已转行业主管部门",
    "verified": "查证属实", "unfounded": "经核查不属实", "closed": "已结案",
}


@dataclass(frozen=True)
class Filed:
    tip_id: int
    receipt: str
    office_code: str
    urgent: bool
    category: str


class TipService:
    def __init__(self, *, offices: OfficeDirectory, categories: Categories, receipts: ReceiptHasher,
                 relay_cipher: DraftCipher, notifier: Notifier, flagger: Any | None = None) -> None:
        self.offices = offices
        self.categories = categories
        self._receipts = receipts
        self._relay = relay_cipher
        self._notifier = notifier
        self._flagger = flagger  # the risk check: description → red-flag ids

    def can_seal(self, session: Session) -> bool:
        """Whether a tip can be sealed now (the city office, the fallback of every county, has a key)."""
        return self.offices.city.code in public_keys(session)

    def _recipients(self, session: Session, office_code: str, urgent: bool) -> dict[str, str]:
        keys = public_keys(session)
        codes = [office_code] + ([self.offices.city.code] if urgent else [])
        found = {c: keys[c] for c in codes if c in keys}
        if not found:
            city = self.offices.city.code
            if city not in keys:
                raise NoOfficeKey("no office key to seal this tip to; run `fundguard office keygen`")
            found = {city: keys[city]}
        return found

    def _seal(self, session: Session, tip: Tip, part: str, obj: Any) -> None:
        for code, public in self._recipients(session, tip.office_code, tip.urgent).items():
            session.add(TipSeal(tip_id=tip.id, office_code=code, part=part, ciphertext=seal_json(public, obj),
                                key_fp=fingerprint(public)))

    def file(self, session: Session, draft: dict[str, Any], *, channel: str, chat_user: str) -> Filed:
        office = self.offices.get(draft.get("region") or "") or self.offices.city
        texts = [draft.get("subject", ""), draft.get("description", ""), draft.get("first", "")]
        urgent = is_urgent(draft.get("amount"), draft.get("participants"), texts)
        category = self.categories.infer(*texts)
        flags = self._flagger(draft.get("description", "")) if self._flagger else []
        receipt = new_receipt()
        tip = Tip(office_code=office.code, category=category, urgent=urgent,
                  real_name=draft.get("contact") != "匿名",
                  channel=channel, receipt_hash=self._receipts.hash(receipt), flags=flags,
                  handle=secrets.token_hex(16))
        session.add(tip)
        session.flush()
        content = {k: draft.get(k) for k in ("subject", "description", "amount", "amount_text", "participants",
                                             "participants_text", "evidence_notes", "first", "region_text")}
        self._seal(session, tip, "content", content)
        # The chat id is only ever sealed to the office, bound to this tip's random handle.
        identity = {"contact": draft.get("contact"), "channel": channel, "chat_id": chat_user, "handle": tip.handle}
        self._seal(session, tip, "identity", identity)
        for image in draft.get("images", []):
            self._seal(session, tip, "evidence", image)
        session.add(TipEvent(tip_id=tip.id, kind="filed", detail="urgent" if urgent else None))
        return Filed(tip.id, format_receipt(receipt), office.code, urgent, category)

    def notify(self, filed: Filed) -> None:
        """Tell the office a tip arrived: id, county, category, urgency. Never any content."""
        metrics.observe_tip(filed.urgent)
        office = self.offices.get(filed.office_code) or self.offices.city  # as the tip flow names it
        notice = TipNotice(filed.tip_id, office.area, self.categories.label(filed.category), filed.urgent)
        try:
            self._notifier.notify(notice)
        except Exception as exc:  # the tip is filed already; a failed notice must not lose it
            log.warning("tip notification failed", extra={"tip_id": filed.tip_id, "error_type": type(exc).__name__})

    def find(self, session: Session, code: str) -> Tip | None:
        try:
            digest = self._receipts.hash(code)
        except ValueError:
            return None
        return session.scalars(select(Tip).where(Tip.receipt_hash == digest)).first()

    def add_information(self, session: Session, tip: Tip, text: str | None = None,
                        image: dict[str, str] | None = None) -> None:
        if text:
            self._seal(session, tip, "addition", {"text": text, "at": utcnow().isoformat()})
            if is_urgent(None, None, [text]) and not tip.urgent:
                tip.urgent = True
                self._seal(session, tip, "content", {"escalated_by_addition": True})
        if image:
            self._seal(session, tip, "evidence", image)
        session.add(TipEvent(tip_id=tip.id, kind="addition"))
        tip.updated_at = utcnow()

    def relay_reply(self, session: Session, tip: Tip, text: str, actor: str) -> None:
        """An office's message to the tipster, delivered the next time the receipt is checked."""
        session.add(TipEvent(tip_id=tip.id, kind="reply", actor=actor, sealed_reply=self._relay.encrypt_json(text)))

    def unseen_replies(self, session: Session, tip: Tip) -> list[tuple[int, str]]:
        """The office's messages the tipster has not yet said they saw: (event id, text), oldest first."""
        events = session.scalars(select(TipEvent).where(
            TipEvent.tip_id == tip.id, TipEvent.kind == "reply", TipEvent.delivered.is_(False))
            .order_by(TipEvent.id)).all()
        return [(event.id, str(self._relay.decrypt_json(event.sealed_reply or ""))) for event in events]

    def mark_replies_seen(self, session: Session, tip: Tip, event_ids: list[int]) -> int:
        """The tipster saw these messages (only these: one written since is still shown next time)."""
        events = session.scalars(select(TipEvent).where(
            TipEvent.tip_id == tip.id, TipEvent.kind == "reply", TipEvent.id.in_(event_ids))).all()
        for event in events:
            event.delivered = True
        return len(events)

    def purge_closed(self, session: Session, older_than: timedelta) -> int:
        cutoff = utcnow() - older_than
        ids = list(session.scalars(select(Tip.id).where(Tip.status == "closed", Tip.closed_at < cutoff)))
        if ids:
            for model in (TipSeal, TipEvent):
                session.execute(delete(model).where(model.tip_id.in_(ids)))
            session.execute(delete(Tip).where(Tip.id.in_(ids)))
        return len(ids)


def image_payload(data: bytes, mime: str = "image/jpeg") -> dict[str, str]:
    return {"mime": mime, "data": base64.b64encode(data).decode("ascii")}
