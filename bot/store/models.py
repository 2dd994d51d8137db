"""SQLAlchemy 2.0 typed models. No chat id, tip text or tipster identity is ever stored in clear."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Conversation(Base):
    """Per-person dialogue state, keyed by a keyed hash of (channel, user id)."""

    __tablename__ = "conversations"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    flow: Mapped[str | None] = mapped_column(String(32))
    step: Mapped[str | None] = mapped_column(String(32))
    # Non-confidential flow data (chosen group, county, last topic). A tip draft goes in `sealed`.
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sealed: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Subscriber(Base):
    """A person who receives campaign pushes. The chat id is sealed; look-ups use `key`."""

    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    channel: Mapped[str] = mapped_column(String(16))
    sealed_chat_id: Mapped[str] = mapped_column(Text)
    audience: Mapped[str] = mapped_column(String(32), default="public")
    county: Mapped[str | None] = mapped_column(String(32))
    opted_in: Mapped[bool] = mapped_column(Boolean, default=True)
    reachable: Mapped[bool] = mapped_column(Boolean, default=True)
    last_error: Mapped[str | None] = mapped_column(String(64))
    last_interaction: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class Office(Base):
    """An office's keys: the public key seals tips, the private key is encrypted under a passphrase."""

    __tablename__ = "offices"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    public_key: Mapped[str] = mapped_column(String(64))
    key_file: Mapped[str] = mapped_column(Text)  # JSON of the passphrase-encrypted private key
    development_key: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OfficeKey(Base):
    """An earlier key of an office, replaced by `office keygen --rotate`: kept to open the tips sealed to it.

    Its private key is encrypted under the office's current passphrase (re-encrypted at rotation)."""

    __tablename__ = "office_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    office_code: Mapped[str] = mapped_column(String(32), index=True)
    public_key: Mapped[str] = mapped_column(String(64))
    key_file: Mapped[str] = mapped_column(Text)
    development_key: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    retired_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Tip(Base):
    """A filed tip: metadata in clear, everything about its content and its tipster sealed."""

    __tablename__ = "tips"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    office_code: Mapped[str] = mapped_column(String(32), index=True)
    category: Mapped[str] = mapped_column(String(32))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    real_name: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(32), default="new", index=True)
    channel: Mapped[str] = mapped_column(String(16))
    receipt_hash: Mapped[str] = mapped_column(String(128), unique=True, index=True)
    # A random value of this tip alone (also sealed in its identity part): joins to no chat and no subscriber.
    handle: Mapped[str | None] = mapped_column(String(32), unique=True, index=True,
                                               default=lambda: secrets.token_hex(16))
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class TipSeal(Base):
    """One sealed copy of a tip part for one office (county, and the city for urgent tips)."""

    __tablename__ = "tip_seals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tip_id: Mapped[int] = mapped_column(ForeignKey("tips.id", ondelete="CASCADE"), index=True)
    office_code: Mapped[str] = mapped_column(String(32))
    # content: the tip itself; identity: contact and chat id; addition: info added later;
    # evidence: an image; note: a staff note
    part: Mapped[str] = mapped_column(String(16))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    key_fp: Mapped[str | None] = mapped_column(String(16))  # which office key sealed it (fingerprint)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TipEvent(Base):
    """A tip's history: status changes, relayed replies (sealed to the tipster's chat), additions."""

    __tablename__ = "tip_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tip_id: Mapped[int] = mapped_column(ForeignKey("tips.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    actor: Mapped[str] = mapped_column(String(64), default="system")
    detail: Mapped[str | None] = mapped_column(Text)
    sealed_reply: Mapped[str | None] = mapped_column(Text)  # a relay to the tipster (app-sealed)
    delivered: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    tip_id: Mapped[int | None] = mapped_column(Integer, index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RateEvent(Base):
    """Attempts counted for rate limits (tips per person, wrong receipt codes), by keyed hash."""

    __tablename__ = "rate_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bucket: Mapped[str] = mapped_column(String(24))
    key: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class RateGate(Base):
    """One row per limited (bucket, key), locked while the limit is checked: concurrent attempts queue."""

    __tablename__ = "rate_gates"

    bucket: Mapped[str] = mapped_column(String(24), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class InboundSeen(Base):
    """Platform message ids already handled (WeChat MsgId, Telegram update_id), keyed-hashed.

    Platforms retry: the first process to insert the row handles the message, the others drop it.
    """

    __tablename__ = "inbound_seen"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class SharedValue(Base):
    """Small values shared by every process (e.g. a platform access token, sealed), with an expiry."""

    __tablename__ = "shared_values"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
