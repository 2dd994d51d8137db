"""Delivery rows as the ledger of a campaign: claim one before sending, mark it after, recover after a crash.

    pending ──claim──► sending ──mark──► sent | failed | unreachable | blocked
       ▲                  │ retry (429, network): back to pending, not before `retry_after`
       └──────────────────┘ worker died mid-send ("in doubt"): back to pending (resend) or failed (skip)
    pending ──claim finds the person unsubscribed / unreachable──► unsubscribed | unreachable

A claim is one committed UPDATE guarded by `state = 'pending'`, so each row is claimed by one worker
at a time; marks are guarded by `claimed_by`, so a worker whose claim was recovered cannot overwrite it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bot.store.campaign_models import CampaignWorker, Delivery
from bot.store.db import affected
from bot.store.models import Subscriber, utcnow

WECHAT_WINDOW_ERROR = "window"  # outside WeChat's 48-hour customer-service window


@dataclass(frozen=True)
class Claim:
    delivery_id: int
    subscriber_id: int
    subscriber_key: str
    sealed_chat_id: str
    attempts: int


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


class DeliveryStore:
    """Claims, marks and recovery for one worker (`worker_id`)."""

    def __init__(self, sessions: sessionmaker[Session], worker_id: str, *, window_hours: int = 48,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self._sessions = sessions
        self.worker_id = worker_id
        self._window = timedelta(hours=window_hours)
        self._now = clock

    # -- claiming -------------------------------------------------------------------------------
    def claim_next(self, campaign_id: int, channel: str, *, scan: int = 20, window: bool = True) -> Claim | None:
        """Claim the next sendable pending row; rows that must not be sent are closed on the way."""
        for _ in range(scan):
            with self._sessions() as session:
                now = self._now()
                q = (select(Delivery.id).where(
                    Delivery.campaign_id == campaign_id, Delivery.state == "pending", Delivery.channel == channel,
                    or_(Delivery.not_before.is_(None), Delivery.not_before <= now))
                    .order_by(Delivery.id).limit(1))
                if session.get_bind().dialect.name == "postgresql":
                    q = q.with_for_update(skip_locked=True)
                did = session.scalar(q)
                if did is None:
                    return None
                taken = session.execute(
                    update(Delivery).where(Delivery.id == did, Delivery.state == "pending")
                    .values(state="sending", claimed_by=self.worker_id, claimed_at=now,
                            attempts=Delivery.attempts + 1, updated_at=now))
                if affected(taken) != 1:
                    session.rollback()  # another worker took it between our read and our write
                    continue
                row = session.execute(
                    select(Delivery.attempts, Subscriber).join(Subscriber, Subscriber.id == Delivery.subscriber_id)
                    .where(Delivery.id == did)).one()
                attempts, sub = row
                verdict = self._verdict(sub, channel, now, window)
                if verdict is not None:
                    state, error = verdict
                    session.execute(update(Delivery).where(Delivery.id == did).values(
                        state=state, error=error, updated_at=now))
                    session.commit()
                    continue
                session.commit()
                return Claim(did, sub.id, sub.key, sub.sealed_chat_id, attempts)
        return None

    def _verdict(self, sub: Subscriber, channel: str, now: datetime,
                 window: bool = True) -> tuple[str, str | None] | None:
        """Why this person must not get the message now (checked right before each send), or None.

        `window`: WeChat customer-service messages only (the subscribe path checks consent first)."""
        if not sub.opted_in:
            return "unsubscribed", None
        if not sub.reachable:
            return "unreachable", (sub.last_error or "unreachable")[:64]
        if window and channel == "wechat" and now - _aware(sub.last_interaction) >= self._window:
            return "unreachable", WECHAT_WINDOW_ERROR
        return None

    def next_wake(self, campaign_id: int, channel: str) -> datetime | None:
        """When the earliest postponed row of this campaign and channel may be tried again."""
        with self._sessions() as session:
            value = session.scalar(select(func.min(Delivery.not_before)).where(
                Delivery.campaign_id == campaign_id, Delivery.channel == channel, Delivery.state == "pending"))
            return _aware(value) if value is not None else None

    # -- marking --------------------------------------------------------------------------------
    def _mark(self, claim: Claim, **values: object) -> bool:
        for attempt in range(3):  # a database hiccup right after a send must not leave the row in doubt
            try:
                return self._mark_once(claim, **values)
            except OperationalError:
                if attempt == 2:
                    raise
                time.sleep(1.0 + attempt)
        return False

    def _mark_once(self, claim: Claim, **values: object) -> bool:
        with self._sessions() as session:
            res = session.execute(update(Delivery).where(
                Delivery.id == claim.delivery_id, Delivery.state == "sending",
                Delivery.claimed_by == self.worker_id).values(updated_at=self._now(), **values))
            if values.get("state") == "blocked":
                session.execute(update(Subscriber).where(Subscriber.id == claim.subscriber_id).values(
                    reachable=False, last_error=str(values.get("error") or "blocked")[:64]))
            session.commit()
            return affected(res) == 1

    def finish(self, claim: Claim, state: str, error: str | None = None, via: str | None = None) -> bool:
        """Close a claimed row; False if the claim had been taken away (recovered as in doubt)."""
        extra: dict[str, object] = {"sent_at": self._now(), "via": via} if state == "sent" else {}
        return self._mark(claim, state=state, error=error[:64] if error else None, **extra)

    def release(self, claim: Claim, *, after: float = 0.0, error: str | None = None, count: bool = True) -> bool:
        """Back to pending, to be tried again no sooner than `after` seconds from now."""
        values: dict[str, object] = {"state": "pending", "claimed_by": None, "error": error,
                                     "not_before": self._now() + timedelta(seconds=after) if after else None}
        if not count:
            values["attempts"] = Delivery.attempts - 1
        return self._mark(claim, **values)

    # -- workers and crash recovery ---------------------------------------------------------------
    def heartbeat(self, host: str, pid: int) -> None:
        with self._sessions() as session:
            row = session.get(CampaignWorker, self.worker_id)
            if row is None:
                session.add(CampaignWorker(id=self.worker_id, host=host[:64], pid=pid, seen_at=self._now()))
            else:
                row.seen_at = self._now()
            session.commit()

    def leave(self) -> None:
        with self._sessions() as session:
            session.execute(delete(CampaignWorker).where(CampaignWorker.id == self.worker_id))
            session.commit()

    def recover(self, dead_after: float, policy: str = "resend", abandoned_after: float = 600.0) -> list[int]:
        """Claims of workers silent for `dead_after` seconds, or older than `abandoned_after` (a live
        worker that lost track of one): the send may or may not have happened.

        Returns the campaigns that had such claims (they need dispatch actors again)."""
        now = self._now()
        alive = select(CampaignWorker.id).where(CampaignWorker.seen_at >= now - timedelta(seconds=dead_after))
        stale = and_(Delivery.state == "sending", or_(
            Delivery.claimed_by.is_(None), Delivery.claimed_by.not_in(alive),
            Delivery.claimed_at < now - timedelta(seconds=abandoned_after)))
        if policy == "resend":
            values: dict[str, object] = {"state": "pending", "claimed_by": None}
        else:
            values = {"state": "failed", "error": "in_doubt"}
        with self._sessions() as session:
            campaigns = list(session.scalars(select(Delivery.campaign_id).where(stale).distinct()))
            if campaigns:
                session.execute(update(Delivery).where(stale).values(
                    in_doubt=Delivery.in_doubt + 1, updated_at=now, **values).execution_options(
                    synchronize_session=False))
            session.execute(delete(CampaignWorker).where(CampaignWorker.seen_at < now - timedelta(days=1)))
            session.commit()
            return campaigns
