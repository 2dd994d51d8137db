"""Tables of the campaign part (registered on bot.store.models.Base).

A Delivery row exists for each (campaign, subscriber) before anything is sent; its `state` moves
pending → sending (claimed by one worker) → sent | failed | unreachable | blocked | unsubscribed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.models import Base, utcnow

CAMPAIGN_STATUSES = ("scheduled", "running", "done", "cancelled", "failed")
DELIVERY_STATES = ("pending", "sending", "sent", "failed", "unreachable", "blocked", "unsubscribed", "skipped")
FINAL_STATES = ("sent", "failed", "unreachable", "blocked", "unsubscribed", "skipped")
# How a campaign reaches WeChat subscribers: customer-service messages (48-hour window), 群发 by tag,
# or 订阅通知 (subscribe messages) for people who accepted the template, else customer service.
WECHAT_PATHS = ("service", "mass", "subscribe")


class Campaign(Base):
    """One push of one content piece to an audience, at a scheduled time."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    piece: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(80))
    source: Mapped[str] = mapped_column(String(16), default="manual")  # manual | calendar
    # e.g. "june_month@2027": scheduling the calendar twice makes no second campaign
    calendar_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    audiences: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: everyone
    counties: Mapped[list[str]] = mapped_column(JSON, default=list)   # empty: the whole city
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)   # empty: every push channel
    status: Mapped[str] = mapped_column(String(16), default="scheduled", index=True)
    scheduled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    planned: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(64), default="cli")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # the last time a dispatch actor worked on it: a running campaign idle for long gets new actors
    drained_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    wechat_path: Mapped[str] = mapped_column(String(16), default="service")
    # sent even to people who got the same piece within the repeat period
    forced: Mapped[bool] = mapped_column(Boolean, default=False)
    failure: Mapped[str | None] = mapped_column(String(200))  # why a campaign is "failed"


class Delivery(Base):
    """One subscriber's copy of one campaign, written before sending and marked after."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("campaign_id", "subscriber_id", name="uq_deliveries_campaign_subscriber"),
        Index("ix_deliveries_claim", "campaign_id", "state", "channel", "id"),
        Index("ix_deliveries_state_claimed_by", "state", "claimed_by"),
        Index("ix_deliveries_subscriber_state", "subscriber_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    audience: Mapped[str] = mapped_column(String(32))      # as it was when planned (stats by group)
    county: Mapped[str | None] = mapped_column(String(32))  # as it was when planned (stats by county)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # times a worker died while this delivery was being sent (the send may or may not have happened)
    in_doubt: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(64))
    via: Mapped[str | None] = mapped_column(String(16))  # service | mass | subscribe | telegram: how it went
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    not_before: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CampaignWorker(Base):
    """A live dispatch worker: its heartbeat tells the others whether its claims are still its own."""

    __tablename__ = "campaign_workers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(String(64))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class WeChatTag(Base):
    """A WeChat user tag mirroring one audience ("audience:elderly") or one county ("county:hanbin")."""

    __tablename__ = "wechat_tags"

    key: Mapped[str] = mapped_column(String(48), primary_key=True)
    tag_id: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WeChatTagMember(Base):
    """A tag WeChat has confirmed on a subscriber (written after the batch call succeeded)."""

    __tablename__ = "wechat_tag_members"

    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True)
    tag_key: Mapped[str] = mapped_column(String(48), primary_key=True, index=True)
    tagged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WeChatMassJob(Base):
    """One 群发 (mass send) of a campaign to one tag, and what the MASSSENDJOBFINISH event reported."""

    __tablename__ = "wechat_mass_jobs"
    __table_args__ = (UniqueConstraint("campaign_id", "tag_key", name="uq_wechat_mass_jobs_campaign_tag"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    tag_key: Mapped[str] = mapped_column(String(48))
    tag_id: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="sending")  # sending | submitted | finished | failed
    kind: Mapped[str] = mapped_column(String(8), default="text")       # text | mpnews
    msg_id: Mapped[str | None] = mapped_column(String(32), index=True)
    error: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str | None] = mapped_column(String(64))  # the event's Status, e.g. "send success"
    total: Mapped[int | None] = mapped_column(Integer)
    filtered: Mapped[int | None] = mapped_column(Integer)
    sent: Mapped[int | None] = mapped_column(Integer)
    errors: Mapped[int | None] = mapped_column(Integer)
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WeChatConsent(Base):
    """A subscriber's acceptance of a 订阅通知 template: one message per acceptance (or unlimited, long-term)."""

    __tablename__ = "wechat_consents"

    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True)
    template_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    uses_left: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
