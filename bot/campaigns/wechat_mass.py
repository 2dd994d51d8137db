"""群发 (mass send by tag): one campaign reaches its WeChat subscribers as one mass message per tag.

A run (the dispatch actor for channel "wechat" of a campaign whose path is "mass"):
1. syncs the campaign's tags (people who joined are tagged, people who left are untagged, first);
2. for each tag, claims a `wechat_mass_jobs` row (unique per campaign and tag, so one request per tag
   however many workers run it), sends text or an uploaded article to the tag_id with a
   `clientmsgid` (WeChat drops a repeat within 24 h: a send whose answer was lost is not doubled),
   and marks the delivery rows of the tag's members as sent (via "mass");
3. closes the rest: people who left as unsubscribed, people with no tag (a citywide subscriber in a
   county campaign, a tagging that failed) as not reachable ("not_tagged").
The platform's result comes later as MASSSENDJOBFINISH; `record_finish` stores it on the job.
Limits: 45009 (the day's API quota) and busy codes wait and try again; 45028 (no mass quota left)
fails that tag's rows. The monthly quota itself is counted at creation (CampaignService).
"""

from __future__ import annotations

import html
import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Literal, Protocol

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot import metrics
from bot.campaigns.content import Library
from bot.campaigns.wechat_tags import TagSync, audience_key, county_key
from bot.store.campaign_models import Campaign, Delivery, WeChatMassJob, WeChatTagMember
from bot.store.db import affected
from bot.store.models import Subscriber, utcnow
from bot.store.subscribers import AUDIENCES

log = logging.getLogger(__name__)
WAIT = {"45009": 600.0, "-1": 5.0, "45011": 5.0}   # try the tag again after this many seconds
ABANDONED = timedelta(minutes=10)                  # a "sending" job this old lost its worker


class MassApi(Protocol):
    def upload_thumb(self, data: bytes) -> str: ...
    def upload_news(self, articles: list[dict[str, Any]]) -> str: ...
    def send_mass(self, tag_id: int, kind: str, payload: dict[str, Any], client_msg_id: str) -> str: ...


def mass_keys(audiences: list[str], counties: list[str]) -> list[str]:
    """The tags a campaign goes to: its groups, or its counties, or every group (everyone)."""
    if audiences:
        return [audience_key(a) for a in audiences]
    if counties:
        return [county_key(c) for c in counties]
    return [audience_key(a) for a in AUDIENCES]


def _code(exc: Exception) -> str:
    return str(getattr(exc, "code", None) or type(exc).__name__)


class MassRunner:
    def __init__(self, sessions: sessionmaker[Session], api: MassApi, tags: TagSync, library: Library, *,
                 thumb: bytes | None = None, clock: Callable[[], Any] = utcnow) -> None:
        self._sessions, self._api, self.tags, self._library = sessions, api, tags, library
        self._thumb, self._now = thumb, clock
        self._lock = threading.Lock()  # one mass run at a time in this process (jobs guard the rest)

    def run(self, campaign: Campaign) -> tuple[Literal["done", "later"], float]:
        """("done", 0) when every tag was sent or failed; ("later", seconds) to try again."""
        if not self._lock.acquire(blocking=False):  # another thread here is on it: keep this one free
            return "later", 5.0
        try:
            return self._run(campaign)
        finally:
            self._lock.release()

    def _run(self, campaign: Campaign) -> tuple[Literal["done", "later"], float]:
        keys = mass_keys(list(campaign.audiences), list(campaign.counties))
        report = self.tags.run(only=keys)
        if report.stopped:
            return "later", WAIT.get(report.stopped, 60.0)
        tag_ids = self.tags.ensure_tags(keys)
        content: tuple[str, dict[str, Any]] | None = None
        for key in keys:
            job_id = self._claim(campaign.id, key, tag_ids[key])
            if job_id is None:
                continue
            try:
                content = content or self._content(campaign)
                msg_id = self._api.send_mass(tag_ids[key], content[0], content[1], f"fg-c{campaign.id}-{key}")
            except Exception as exc:
                wait = self._refused(campaign.id, job_id, key, _code(exc))
                if wait is not None:
                    return "later", wait
                continue
            self._submitted(campaign.id, job_id, key, msg_id, content[0])
        if not self._all_closed(campaign.id, keys):
            return "later", 5.0
        self._close_rest(campaign.id)
        return "done", 0.0

    # -- content ----------------------------------------------------------------------------------
    def _content(self, campaign: Campaign) -> tuple[str, dict[str, Any]]:
        piece = self._library.pieces[campaign.piece]
        text = piece.render("wechat", self._library.values).text
        if not self._thumb:
            return "text", {"content": text}
        body = "".join(f"<p>{html.escape(line)}</p>" for line in text.splitlines() if line.strip())
        article = piece.wechat.article
        digest = article.digest if article else piece.text.splitlines()[0][:54]
        thumb = self._api.upload_thumb(self._thumb)
        media = self._api.upload_news([{"thumb_media_id": thumb, "title": piece.title, "content": body,
                                        "digest": digest, "content_source_url": article.url if article else "",
                                        "show_cover_pic": 0}])
        return "mpnews", {"media_id": media}

    # -- jobs -------------------------------------------------------------------------------------
    def _claim(self, campaign_id: int, key: str, tag_id: int) -> int | None:
        now = self._now()
        with self._sessions() as session:
            try:
                job = WeChatMassJob(campaign_id=campaign_id, tag_key=key, tag_id=tag_id, state="sending",
                                    claimed_at=now)
                session.add(job)
                session.commit()
                return job.id
            except IntegrityError:
                session.rollback()
            job_id = session.scalar(select(WeChatMassJob.id).where(
                WeChatMassJob.campaign_id == campaign_id, WeChatMassJob.tag_key == key))
            retake = session.execute(update(WeChatMassJob).where(
                WeChatMassJob.id == job_id, (WeChatMassJob.state == "retry") | (
                    (WeChatMassJob.state == "sending") & (WeChatMassJob.claimed_at < now - ABANDONED)))
                .values(state="sending", claimed_at=now, tag_id=tag_id))
            session.commit()
            return job_id if affected(retake) == 1 else None

    def _members(self, key: str) -> Any:
        return select(WeChatTagMember.subscriber_id).where(WeChatTagMember.tag_key == key)

    def _submitted(self, campaign_id: int, job_id: int, key: str, msg_id: str | None, kind: str) -> None:
        now = self._now()
        with self._sessions() as session:
            session.execute(update(WeChatMassJob).where(WeChatMassJob.id == job_id).values(
                state="submitted", msg_id=msg_id or None, kind=kind, submitted_at=now, error=None))
            session.execute(update(Delivery).where(
                Delivery.campaign_id == campaign_id, Delivery.channel == "wechat", Delivery.state == "pending",
                Delivery.subscriber_id.in_(self._members(key)))
                .values(state="sent", via="mass", sent_at=now, updated_at=now, attempts=Delivery.attempts + 1)
                .execution_options(synchronize_session=False))
            session.commit()
        log.info("wechat mass send submitted", extra={"campaign": campaign_id, "tag": key})
        metrics.observe_push("wechat", "mass_submitted")

    def _refused(self, campaign_id: int, job_id: int, key: str, code: str) -> float | None:
        """Seconds to wait before trying this tag again, or None when the tag is closed."""
        log.warning("wechat mass send refused", extra={"campaign": campaign_id, "tag": key, "errcode": code})
        metrics.observe_push("wechat", "mass_refused")
        if code == "45065":  # the same clientmsgid went through before (its answer was lost)
            self._submitted(campaign_id, job_id, key, None, "text")
            return None
        transient = code in WAIT or not code.lstrip("-").isdigit()  # busy, quota of the day, network
        now = self._now()
        with self._sessions() as session:
            session.execute(update(WeChatMassJob).where(WeChatMassJob.id == job_id).values(
                state="retry" if transient else "failed", error=code[:64]))
            if not transient:
                session.execute(update(Delivery).where(
                    Delivery.campaign_id == campaign_id, Delivery.channel == "wechat",
                    Delivery.state == "pending", Delivery.subscriber_id.in_(self._members(key)))
                    .values(state="failed", via="mass", error=code[:64], updated_at=now)
                    .execution_options(synchronize_session=False))
            session.commit()
        return WAIT.get(code, 30.0) if transient else None

    def _all_closed(self, campaign_id: int, keys: list[str]) -> bool:
        with self._sessions() as session:
            states = dict(session.execute(select(WeChatMassJob.tag_key, WeChatMassJob.state).where(
                WeChatMassJob.campaign_id == campaign_id)).all())
        return all(states.get(k) in ("submitted", "finished", "failed") for k in keys)

    def _close_rest(self, campaign_id: int) -> None:
        now = self._now()
        rest = (Delivery.campaign_id == campaign_id, Delivery.channel == "wechat", Delivery.state == "pending")
        left = select(Subscriber.id).where(Subscriber.opted_in.is_(False))
        with self._sessions() as session:
            session.execute(update(Delivery).where(*rest, Delivery.subscriber_id.in_(left)).values(
                state="unsubscribed", via="mass", updated_at=now).execution_options(synchronize_session=False))
            session.execute(update(Delivery).where(*rest).values(
                state="unreachable", via="mass", error="not_tagged", updated_at=now)
                .execution_options(synchronize_session=False))
            session.commit()


def record_finish(session: Session, details: dict[str, str]) -> bool:
    """Store a MASSSENDJOBFINISH (msg_id, status, total, filtered, sent, errors) on its job;
    False if no job of ours has that msg_id."""
    msg_id = details.get("msg_id")
    if not msg_id:
        return False

    def number(name: str) -> int | None:
        value = details.get(name, "")
        return int(value) if value.isdigit() else None

    res = session.execute(update(WeChatMassJob).where(WeChatMassJob.msg_id == msg_id).values(
        state="finished", status=details.get("status", "")[:64], total=number("total"),
        filtered=number("filtered"), sent=number("sent"), errors=number("errors"), finished_at=utcnow()))
    return bool(affected(res))
