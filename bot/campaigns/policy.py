"""Rules checked when a campaign is made: the WeChat 群发 quota of a calendar month, what a send by tag
can express, a piece not sent twice to one person, and who cannot be reached (and why)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Exists, and_, exists, literal, or_, select
from sqlalchemy.orm import Session, aliased

from bot.campaigns.wechat_tags import NOT_A_FOLLOWER
from bot.store.campaign_models import Campaign, Delivery, WeChatConsent, WeChatMassJob
from bot.store.models import Subscriber


class PolicyError(ValueError):
    """A campaign that must not be made (the service turns it into a CampaignError)."""


def month_of(when: datetime, tz: str) -> tuple[str, datetime, datetime]:
    """("2027-06", first instant, first instant of the next month): a local calendar month, in UTC."""
    local = when.astimezone(ZoneInfo(tz))
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (start + timedelta(days=32)).replace(day=1)
    return f"{start:%Y-%m}", start.astimezone(UTC), end.astimezone(UTC)


def mass_in_month(session: Session, when: datetime, tz: str, exclude: int | None = None) -> list[int]:
    """群发 campaigns of that calendar month that count against the quota (a cancelled one counts
    only if it already sent something)."""
    _, start, end = month_of(when, tz)
    sent = exists().where(WeChatMassJob.campaign_id == Campaign.id, WeChatMassJob.state != "failed")
    q = select(Campaign.id).where(
        Campaign.wechat_path == "mass", Campaign.scheduled_at >= start, Campaign.scheduled_at < end,
        Campaign.status != "failed", or_(Campaign.status != "cancelled", sent)).order_by(Campaign.id)
    if exclude is not None:
        q = q.where(Campaign.id != exclude)
    return list(session.scalars(q))


def check_mass(session: Session, *, piece: str, audiences: list[str], counties: list[str], when: datetime,
               tz: str, quota: int, repeat_days: int, forced: bool, exclude: int | None = None) -> None:
    if audiences and counties:
        raise PolicyError("群发 goes to one tag at a time: a whole group or a whole county, not a group within "
                          "a county. Give --audience or --county (not both), or use --wechat-path service "
                          "or subscribe for a group within a county.")
    month, _, _ = month_of(when, tz)
    used = mass_in_month(session, when, tz, exclude)
    if len(used) >= quota:
        ids = ", ".join(str(i) for i in used)
        raise PolicyError(f"the WeChat 群发 quota for {month} is used up: {len(used)} of {quota} mass sends "
                          f"(campaigns {ids}; FUNDGUARD_CAMPAIGN_WECHAT_MASS_QUOTA). Schedule it in another "
                          "month, cancel one of those, or use --wechat-path service or subscribe.")
    if not forced:
        since = when - timedelta(days=repeat_days)
        earlier = session.scalar(select(Campaign.id).where(
            Campaign.piece == piece, Campaign.wechat_path == "mass", Campaign.scheduled_at >= since,
            Campaign.scheduled_at < when + timedelta(days=repeat_days),
            Campaign.status.not_in(("cancelled", "failed")), Campaign.id != (exclude or -1)).limit(1))
        if earlier is not None:
            raise PolicyError(f"piece {piece!r} already goes by 群发 in campaign {earlier} (within "
                              f"{repeat_days} days); a mass send cannot leave out the people who got it. "
                              "Add --force to send it again.")


def audience(campaign: Campaign) -> list[ColumnElement[bool]]:
    """Conditions on Subscriber: opted in, and in the campaign's audiences, counties and channels.

    Citywide subscribers (no county) get county campaigns too.
    """
    conds: list[ColumnElement[bool]] = [Subscriber.opted_in.is_(True)]
    if campaign.audiences:
        conds.append(Subscriber.audience.in_(campaign.audiences))
    if campaign.counties:
        conds.append(or_(Subscriber.county.in_(campaign.counties), Subscriber.county.is_(None)))
    if campaign.channels:
        conds.append(Subscriber.channel.in_(campaign.channels))
    return conds


def already_sent(campaign: Campaign, now: datetime, repeat_days: int) -> Exists:
    """A condition on Subscriber: this piece reached them (or is on its way) within the period."""
    other, earlier = aliased(Delivery), aliased(Campaign)
    return exists().where(
        other.subscriber_id == Subscriber.id, other.campaign_id == earlier.id, earlier.piece == campaign.piece,
        earlier.id != campaign.id, or_(
            and_(other.state == "sent", other.sent_at >= now - timedelta(days=repeat_days)),
            and_(other.state.in_(("pending", "sending")), earlier.status == "running")))


@dataclass
class Reach:
    targeted: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    @property
    def unreachable(self) -> int:
        return sum(n for why, n in self.reasons.items() if why not in NOTES)


NOTES = {"repeat_mass"}  # reached, but worth saying
REASONS = {
    "web": "on the web chat, which cannot push",
    "no_channel": "on a channel with no configured sender",
    "blocked": "marked unreachable (blocked the bot, unfollowed, or refused by the platform)",
    "window": "outside WeChat's 48-hour customer-service window (today)",
    "no_consent": "without a 订阅通知 consent and outside the 48-hour window (today)",
    "no_tag": "citywide (no county), so no county tag reaches them by 群发",
    "already_sent": "already got this piece within the repeat period",
    "repeat_mass": "already got this piece, and a 群发 cannot leave them out: they will get it again",
}


def reach(session: Session, campaign: Campaign, senders: list[str], *, now: datetime, window_hours: int,
          repeat_days: int, template: str = "") -> Reach:
    """Who of the campaign's audience cannot be reached, by reason (as of now)."""
    conds = audience(campaign)
    dup = already_sent(campaign, now, repeat_days) if not campaign.forced else None
    consent = exists().where(WeChatConsent.subscriber_id == Subscriber.id, WeChatConsent.template_id == template,
                             WeChatConsent.uses_left != 0)
    rows = session.execute(select(
        Subscriber.channel, Subscriber.reachable, Subscriber.last_error, Subscriber.last_interaction,
        Subscriber.county, dup if dup is not None else literal(False), consent if template else literal(False),
    ).where(*conds))
    mass = campaign.wechat_path == "mass"
    out = Reach()
    for channel, reachable, error, last, county, was_sent, consented in rows:
        out.targeted += 1
        last = last if last.tzinfo else last.replace(tzinfo=now.tzinfo)
        recent = now - last < timedelta(hours=window_hours)
        why = None
        if channel not in senders:
            why = "web" if channel == "web" else "no_channel"
        elif was_sent:
            why = "repeat_mass" if channel == "wechat" and mass else "already_sent"
        elif not reachable and not (channel == "wechat" and mass and error not in NOT_A_FOLLOWER):
            why = "blocked"  # (a 群发 still reaches people refused only for the 48-hour window)
        elif channel == "wechat" and campaign.wechat_path == "service" and not recent:
            why = "window"
        elif channel == "wechat" and campaign.wechat_path == "subscribe" and not (recent or consented):
            why = "no_consent"
        elif channel == "wechat" and campaign.wechat_path == "mass" and campaign.counties and county is None:
            why = "no_tag"
        if why:
            out.reasons[why] += 1
    return out

