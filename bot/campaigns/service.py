"""Campaigns: create by hand or from the calendar, start (plan every delivery row at once), finish."""

from __future__ import annotations

import builtins  # annotations below `CampaignService.list` would otherwise name that method
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, and_, case, exists, func, insert, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.campaigns.content import Library
from bot.campaigns.policy import PolicyError, Reach, already_sent, audience, check_mass, reach
from bot.campaigns.quiet import QuietHours
from bot.messages import PUSH_CHANNELS
from bot.store.campaign_models import WECHAT_PATHS, Campaign, Delivery
from bot.store.db import affected
from bot.store.models import Subscriber, utcnow
from bot.store.subscribers import AUDIENCES


class CampaignError(ValueError):
    """A campaign request that cannot be done (unknown piece, audience, county; wrong status)."""


class CampaignService:
    def __init__(self, sessions: sessionmaker[Session], library: Library, quiet: QuietHours,
                 counties: Sequence[str] = (), clock: Callable[[], datetime] = utcnow, *, mass_quota: int = 4,
                 repeat_days: int = 30, default_path: str = "service") -> None:
        self._sessions = sessions
        self.library = library
        self.quiet = quiet
        self._counties = set(counties)
        self._now = clock
        self.mass_quota, self.repeat_days, self.default_path = mass_quota, repeat_days, default_path
        self.refused: list[str] = []  # calendar entries `schedule_calendar` could not schedule, and why

    # -- creating and scheduling -------------------------------------------------------------------
    def create(self, piece: str, *, at: datetime | None = None, audiences: Sequence[str] | None = None,
               counties: Sequence[str] = (), channels: Sequence[str] = (), name: str | None = None,
               created_by: str = "cli", calendar_key: str | None = None, wechat_path: str | None = None,
               force: bool = False) -> Campaign:
        """A scheduled campaign; a time inside quiet hours moves to the end of them.

        A 群发 campaign is refused when its calendar month's quota is used up (counted in the database)."""
        if piece not in self.library.pieces:
            raise CampaignError(f"unknown piece {piece!r}")
        chosen = list(audiences) if audiences is not None else self.library.audiences_of(piece)
        self._check(chosen, counties, channels)
        path = wechat_path or self.default_path
        if path not in WECHAT_PATHS:
            raise CampaignError(f"unknown WeChat path {path!r} (one of {', '.join(WECHAT_PATHS)})")
        when = self.quiet.next_open(at or self._now())
        campaign = Campaign(piece=piece, name=(name or self.library.pieces[piece].title)[:80],
                            source="calendar" if calendar_key else "manual", calendar_key=calendar_key,
                            audiences=chosen, counties=list(counties), channels=list(channels),
                            status="scheduled", scheduled_at=when, planned=0, created_by=created_by[:64],
                            created_at=self._now(), wechat_path=path, forced=force)
        with self._sessions() as session:
            self._check_mass(session, campaign)
            session.add(campaign)
            session.commit()
        return campaign

    def _check_mass(self, session: Session, campaign: Campaign, exclude: int | None = None) -> None:
        if campaign.wechat_path != "mass" or (campaign.channels and "wechat" not in campaign.channels):
            return
        try:
            check_mass(session, piece=campaign.piece, audiences=list(campaign.audiences),
                       counties=list(campaign.counties), when=campaign.scheduled_at, tz=self.quiet.tz.key,
                       quota=self.mass_quota, repeat_days=self.repeat_days, forced=campaign.forced,
                       exclude=exclude)
        except PolicyError as exc:
            raise CampaignError(str(exc)) from exc

    def reach(self, campaign_id: int, senders: Sequence[str], *, window_hours: int = 48,
              template: str = "") -> Reach:
        """How many targeted subscribers cannot be reached now, and why."""
        with self._sessions() as session:
            campaign = session.get(Campaign, campaign_id)
            if campaign is None:
                raise CampaignError(f"no campaign {campaign_id}")
            return reach(session, campaign, list(senders), now=self._now(), window_hours=window_hours,
                         repeat_days=self.repeat_days, template=template)

    def fail(self, campaign_id: int, reason: str) -> bool:
        """A campaign that could not start: `failed`, with the reason (`campaign run` may try it again)."""
        with self._sessions() as session:
            res = session.execute(update(Campaign).where(
                Campaign.id == campaign_id, Campaign.status == "scheduled")
                .values(status="failed", failure=reason[:200], finished_at=self._now()))
            session.commit()
            return bool(affected(res))

    def _check(self, audiences: Sequence[str], counties: Sequence[str], channels: Sequence[str]) -> None:
        bad = [a for a in audiences if a not in AUDIENCES]
        if bad:
            raise CampaignError(f"unknown audience {bad[0]!r} (one of {', '.join(AUDIENCES)})")
        bad = [c for c in counties if self._counties and c not in self._counties]
        if bad:
            raise CampaignError(f"unknown county {bad[0]!r}")
        bad = [c for c in channels if c not in PUSH_CHANNELS]
        if bad:
            raise CampaignError(f"channel {bad[0]!r} cannot push ({' or '.join(PUSH_CHANNELS)})")

    def reschedule(self, campaign_id: int, at: datetime) -> Campaign:
        with self._sessions() as session:
            campaign = session.get(Campaign, campaign_id)
            if campaign is None:
                raise CampaignError(f"no campaign {campaign_id}")
            if campaign.status not in ("scheduled", "failed"):
                raise CampaignError(f"campaign {campaign_id} is {campaign.status}; only a scheduled one moves")
            campaign.scheduled_at = self.quiet.next_open(at)
            self._check_mass(session, campaign, exclude=campaign.id)
            campaign.status, campaign.failure, campaign.finished_at = "scheduled", None, None
            session.commit()
            return campaign

    def cancel(self, campaign_id: int) -> bool:
        """Stop a scheduled or running campaign; rows not yet sent stay pending and are never sent."""
        with self._sessions() as session:
            res = session.execute(update(Campaign).where(
                Campaign.id == campaign_id, Campaign.status.in_(("scheduled", "running")))
                .values(status="cancelled", finished_at=self._now()))
            session.commit()
            return bool(affected(res))

    def schedule_calendar(self, start: date, end: date) -> list[Campaign]:
        """A campaign for every calendar date in [start, end]; dates already scheduled are skipped."""
        made: list[Campaign] = []
        self.refused = []
        for entry in self.library.calendar:
            for when in entry.occurrences(start, end, self.quiet.tz):
                key = f"{entry.id}@{when.date().isoformat()}"
                try:
                    made.append(self.create(entry.piece, at=when, audiences=entry.audiences, name=entry.name,
                                            created_by="calendar", calendar_key=key))
                except IntegrityError:
                    continue  # scheduled before
                except CampaignError as exc:  # e.g. the month's 群发 quota: the rest still go in
                    self.refused.append(f"{key}: {exc}")
        return made

    def list(self, limit: int = 50) -> list[Campaign]:
        with self._sessions() as session:
            return list(session.scalars(select(Campaign).order_by(Campaign.scheduled_at.desc()).limit(limit)))

    def get(self, campaign_id: int) -> Campaign | None:
        with self._sessions() as session:
            return session.get(Campaign, campaign_id)

    # -- starting and finishing (the scheduler) ---------------------------------------------------------
    def due(self) -> builtins.list[int]:
        now = self._now()
        if self.quiet.is_quiet(now):
            return []
        with self._sessions() as session:
            return list(session.scalars(select(Campaign.id).where(
                Campaign.status == "scheduled", Campaign.scheduled_at <= now).order_by(Campaign.scheduled_at)))

    def start(self, campaign_id: int, channels: Sequence[str]) -> int | None:
        """Mark running and write every delivery row in one transaction; None if another worker started it.

        `channels` are the ones this worker can push to; other subscribers' rows are closed as unreachable.
        """
        now = self._now()
        with self._sessions() as session:
            taken = session.execute(update(Campaign).where(
                Campaign.id == campaign_id, Campaign.status == "scheduled")
                .values(status="running", started_at=now))
            if affected(taken) != 1:
                session.rollback()
                return None
            campaign = session.get(Campaign, campaign_id)
            assert campaign is not None
            planned = self._plan(session, campaign, list(channels), now)
            campaign.planned = planned
            session.commit()
            return planned

    def _plan(self, session: Session, campaign: Campaign, senders: builtins.list[str], now: datetime) -> int:
        conds = audience(campaign)
        already = exists().where(Delivery.campaign_id == campaign.id, Delivery.subscriber_id == Subscriber.id)
        state = Subscriber.channel.in_(senders) if senders else literal(False)
        dup: ColumnElement[bool] = literal(False) if campaign.forced else already_sent(campaign, now, self.repeat_days)
        if campaign.wechat_path == "mass" and not campaign.forced:  # a 群发 cannot leave anyone out
            dup = and_(dup, Subscriber.channel != "wechat")
        src = select(
            literal(campaign.id), Subscriber.id, Subscriber.channel, Subscriber.audience, Subscriber.county,
            case((dup, literal("skipped")), (state, literal("pending")), else_=literal("unreachable")),
            case((dup, literal("already_sent")), (state, literal(None)), else_=literal("no_channel")),
            literal(0), literal(0), literal(now),
        ).where(and_(*conds), ~already).order_by(Subscriber.id)  # sent in the order people subscribed
        cols = ["campaign_id", "subscriber_id", "channel", "audience", "county", "state", "error",
                "attempts", "in_doubt", "updated_at"]
        session.execute(insert(Delivery).from_select(cols, src))
        return int(session.scalar(select(func.count()).select_from(Delivery).where(
            Delivery.campaign_id == campaign.id)) or 0)

    def running(self) -> builtins.list[Campaign]:
        with self._sessions() as session:
            return list(session.scalars(select(Campaign).where(Campaign.status == "running")))

    def open_channels(self, campaign_id: int) -> builtins.list[str]:
        """Channels with rows still to send (pending or being sent)."""
        with self._sessions() as session:
            return list(session.scalars(select(Delivery.channel).where(
                Delivery.campaign_id == campaign_id, Delivery.state.in_(("pending", "sending"))).distinct()))

    def finish_if_done(self, campaign_id: int) -> bool:
        with self._sessions() as session:
            left = session.scalar(select(func.count()).select_from(Delivery).where(
                Delivery.campaign_id == campaign_id, Delivery.state.in_(("pending", "sending"))))
            if left:
                return False
            res = session.execute(update(Campaign).where(Campaign.id == campaign_id, Campaign.status == "running")
                                  .values(status="done", finished_at=self._now()))
            session.commit()
            return bool(affected(res))

    def touch_drained(self, campaign_id: int, stale_after: float | None = None) -> bool:
        """Note that a dispatch actor works on it; with `stale_after`, only if nobody did for that long."""
        now = self._now()
        conds = [Campaign.id == campaign_id, Campaign.status == "running"]
        if stale_after is not None:
            conds.append(or_(Campaign.drained_at.is_(None),
                             Campaign.drained_at < now - timedelta(seconds=stale_after)))
        with self._sessions() as session:
            res = session.execute(update(Campaign).where(*conds).values(drained_at=now))
            session.commit()
            return bool(affected(res))

    def is_running(self, campaign_id: int) -> bool:
        with self._sessions() as session:
            return session.scalar(select(Campaign.status).where(Campaign.id == campaign_id)) == "running"
