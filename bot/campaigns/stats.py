"""Per-campaign figures: sent, failed, not reachable, unsubscribed since; in all, by group, by county;
the WeChat path, how each message went (via), and the 群发 jobs with their finish events."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.store.campaign_models import Campaign, Delivery, WeChatMassJob
from bot.store.models import Subscriber

CITYWIDE = "(全市)"


@dataclass
class Counts:
    planned: int = 0
    sent: int = 0
    failed: int = 0
    not_reachable: int = 0     # outside WeChat's window, no push channel, marked unreachable, or blocked
    blocked: int = 0           # of which: the person blocked the bot during this campaign
    unsubscribed_before: int = 0  # left before their turn came: nothing was sent
    pending: int = 0           # not yet sent (including a send under way)
    in_doubt: int = 0          # a worker died while sending to them (see bot/campaigns/README.md)
    unsubscribed_since: int = 0   # planned while subscribed, opted out now
    already_sent: int = 0      # skipped: got this piece within the repeat period (see `--force`)

    def add(self, state: str, opted_in: bool, n: int, doubt: int) -> None:
        self.planned += n
        self.in_doubt += doubt
        if not opted_in:
            self.unsubscribed_since += n
        if state == "sent":
            self.sent += n
        elif state == "failed":
            self.failed += n
        elif state in ("unreachable", "blocked"):
            self.not_reachable += n
            self.blocked += n if state == "blocked" else 0
        elif state == "unsubscribed":
            self.unsubscribed_before += n
        elif state == "skipped":
            self.already_sent += n
        else:
            self.pending += n


@dataclass
class CampaignStats:
    campaign_id: int
    name: str
    piece: str
    status: str
    total: Counts = field(default_factory=Counts)
    by_audience: dict[str, Counts] = field(default_factory=dict)
    by_county: dict[str, Counts] = field(default_factory=dict)
    wechat_path: str = "service"
    failure: str | None = None
    via: dict[str, int] = field(default_factory=dict)        # sent messages by mechanism
    mass_jobs: list[dict[str, object]] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def campaign_stats(sessions: sessionmaker[Session], campaign_id: int) -> CampaignStats | None:
    with sessions() as session:
        campaign = session.get(Campaign, campaign_id)
        if campaign is None:
            return None
        stats = CampaignStats(campaign.id, campaign.name, campaign.piece, campaign.status,
                              wechat_path=campaign.wechat_path, failure=campaign.failure)
        rows = session.execute(
            select(Delivery.audience, Delivery.county, Delivery.state, Subscriber.opted_in, func.count(),
                   func.sum(case((Delivery.in_doubt > 0, 1), else_=0)))
            .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
            .where(Delivery.campaign_id == campaign_id)
            .group_by(Delivery.audience, Delivery.county, Delivery.state, Subscriber.opted_in))
        for audience, county, state, opted_in, n, doubt in rows:
            for counts in (stats.total, stats.by_audience.setdefault(audience, Counts()),
                           stats.by_county.setdefault(county or CITYWIDE, Counts())):
                counts.add(state, bool(opted_in), int(n), int(doubt or 0))
        for via, n in session.execute(select(Delivery.via, func.count()).where(
                Delivery.campaign_id == campaign_id, Delivery.state == "sent").group_by(Delivery.via)):
            stats.via[via or "-"] = int(n)
        for job in session.scalars(select(WeChatMassJob).where(WeChatMassJob.campaign_id == campaign_id)
                                   .order_by(WeChatMassJob.id)):
            stats.mass_jobs.append({"tag": job.tag_key, "tag_id": job.tag_id, "state": job.state,
                                    "kind": job.kind, "msg_id": job.msg_id, "error": job.error,
                                    "status": job.status, "total": job.total, "filtered": job.filtered,
                                    "sent": job.sent, "errors": job.errors})
        return stats


def format_stats(stats: CampaignStats, county_names: dict[str, str] | None = None,
                 audience_names: dict[str, str] | None = None) -> str:
    """A plain-text table for the CLI."""
    cols = ("planned", "sent", "failed", "not_reachable", "blocked", "unsubscribed_before", "pending",
            "in_doubt", "unsubscribed_since", "already_sent")
    head = f"{'':<22}" + "".join(f"{c[:12]:>13}" for c in cols)

    def line(label: str, c: Counts) -> str:
        return f"{label[:22]:<22}" + "".join(f"{getattr(c, k):>13}" for k in cols)

    out = [f"campaign {stats.campaign_id} · {stats.name} · piece {stats.piece} · {stats.status}"
           + (f" ({stats.failure})" if stats.failure else ""),
           f"WeChat path: {stats.wechat_path}; sent via: "
           + (", ".join(f"{k} {v}" for k, v in sorted(stats.via.items())) or "-")]
    for job in stats.mass_jobs:
        result = (f"total {job['total']}, filtered {job['filtered']}, sent {job['sent']}, errors {job['errors']}"
                  if job["state"] == "finished" else (job["error"] or "waiting for MASSSENDJOBFINISH"))
        out.append(f"  群发 {job['tag']} (tag {job['tag_id']}, {job['kind']}): {job['state']} · {result}")
    out += [head, line("total", stats.total), "by group:"]
    out += [line((audience_names or {}).get(a, a), c) for a, c in sorted(stats.by_audience.items())]
    out.append("by county:")
    out += [line((county_names or {}).get(k, k), c) for k, c in sorted(stats.by_county.items())]
    return "\n".join(out)
