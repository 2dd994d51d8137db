"""WeChat user tags that mirror audiences: one tag per group and one per county, kept in step with
the subscribers table.

Each opted-in WeChat subscriber should carry the tag of their group and, if they named one, of their
county; everyone else (opted out, unfollowed) should carry none of ours. `wechat_tag_members` holds
what WeChat has confirmed: a row is written only after the batch call for it succeeded, and removed
only after the untag call did. A sync computes the difference and applies it in batches of 50 (the
platform's limit), paced to `rate` calls a second, committing after every batch — so it can stop at
any point (quota, network, Ctrl-C) and the next run continues where it left off; run twice, the
second run calls nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.store.campaign_models import WeChatTag, WeChatTagMember
from bot.store.models import Subscriber
from bot.store.subscribers import AUDIENCES

log = logging.getLogger(__name__)
BATCH = 50
PREFIX = "防非·"
NOT_A_FOLLOWER = {"40003", "43004", "49003"}  # invalid openid; unfollowed; not of this account
SLOW_DOWN = {"-1": 2.0, "45011": 2.0}          # busy; too fast: wait and try the batch again
STOP = {"45009"}                               # the day's API quota: stop, resume tomorrow


Plan = dict[str, list[tuple[int, str]]]


class TagApi(Protocol):
    def tags(self) -> dict[str, int]: ...
    def create_tag(self, name: str) -> int: ...
    def tag_users(self, tag_id: int, openids: list[str]) -> None: ...
    def untag_users(self, tag_id: int, openids: list[str]) -> None: ...


def audience_key(audience: str) -> str:
    return f"audience:{audience}"


def county_key(county: str) -> str:
    return f"county:{county}"


def keys_of(audience: str, county: str | None) -> set[str]:
    return {audience_key(audience), *([county_key(county)] if county else [])}


@dataclass
class SyncReport:
    tags_created: int = 0
    tagged: int = 0
    untagged: int = 0
    calls: int = 0
    not_followers: set[int] = field(default_factory=set)  # subscriber ids WeChat says do not follow
    stopped: str | None = None   # an errcode that ended the run early (run again later)
    seconds: float = 0.0
    by_tag: dict[str, int] = field(default_factory=dict)


class Pacer:
    """At most `rate` calls a second (0: no limit), for one process."""

    def __init__(self, rate: float) -> None:
        self._gap = 1.0 / rate if rate > 0 else 0.0
        self._next = time.monotonic()
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            delay, self._next = self._next - now, max(now, self._next) + self._gap
        if delay > 0:
            time.sleep(delay)


class TagSync:
    def __init__(self, sessions: sessionmaker[Session], api: TagApi, unseal: Callable[[str], str], *,
                 names: dict[str, str] | None = None, rate: float = 50.0, batch: int = BATCH) -> None:
        self._sessions, self._api, self._unseal = sessions, api, unseal
        self._names = names or {}  # county code → area name, for the tag's name
        self._pacer = Pacer(rate)
        self._batch = min(batch, BATCH)

    def tag_name(self, key: str) -> str:
        kind, _, code = key.partition(":")
        label = AUDIENCES.get(code, code) if kind == "audience" else self._names.get(code, code)
        return (PREFIX + label)[:30]

    def all_keys(self) -> list[str]:
        return [audience_key(a) for a in AUDIENCES] + [county_key(c) for c in self._names]

    # -- tags themselves --------------------------------------------------------------------------
    def ensure_tags(self, keys: Iterable[str], report: SyncReport | None = None) -> dict[str, int]:
        """key → WeChat tag id, creating the missing tags (or adopting ones made by hand with our name)."""
        keys = list(dict.fromkeys(keys))
        with self._sessions() as session:
            known = {t.key: t.tag_id for t in session.scalars(select(WeChatTag).where(WeChatTag.key.in_(keys)))}
        missing = [k for k in keys if k not in known]
        if not missing:
            return known
        remote = self._api.tags()
        for key in missing:
            name = self.tag_name(key)
            if name not in remote:
                try:
                    remote[name] = self._api.create_tag(name)
                    if report is not None:
                        report.tags_created += 1
                except Exception as exc:  # 45157: made meanwhile by another process
                    if getattr(exc, "code", None) != "45157":
                        raise
                    remote = self._api.tags()
            known[key] = remote[name]
            with self._sessions() as session:
                try:
                    session.add(WeChatTag(key=key, tag_id=remote[name], name=name))
                    session.commit()
                except IntegrityError:
                    session.rollback()
        return known

    # -- members ----------------------------------------------------------------------------------
    def plan(self, only: set[str] | None = None) -> tuple[Plan, Plan]:
        """(to tag, to untag): tag key → [(subscriber id, sealed openid)], in subscriber order."""
        with self._sessions() as session:
            have: dict[int, set[str]] = defaultdict(set)
            for sid, key in session.execute(select(WeChatTagMember.subscriber_id, WeChatTagMember.tag_key)):
                have[sid].add(key)
            rows = session.execute(select(Subscriber.id, Subscriber.sealed_chat_id, Subscriber.opted_in,
                                          Subscriber.audience, Subscriber.county, Subscriber.reachable,
                                          Subscriber.last_error)
                                   .where(Subscriber.channel == "wechat").order_by(Subscriber.id)).all()
        add: Plan = defaultdict(list)
        remove: Plan = defaultdict(list)
        for sid, sealed, opted_in, audience, county, reachable, error in rows:
            gone = not reachable and error in NOT_A_FOLLOWER  # until they write to the account again
            want = keys_of(audience, county) if opted_in and not gone else set()
            for key in want - have.get(sid, set()):
                if only is None or key in only:
                    add[key].append((sid, sealed))
            for key in have.get(sid, set()) - want:
                if only is None or key in only:
                    remove[key].append((sid, sealed))
        return add, remove

    def run(self, only: Iterable[str] | None = None, stop: threading.Event | None = None) -> SyncReport:
        """Bring WeChat's tags in line with the subscribers (all tags, or only the keys in `only`)."""
        started = time.monotonic()
        report = SyncReport()
        scope = set(only) if only is not None else None
        add, remove = self.plan(scope)
        tag_ids = self.ensure_tags([*remove, *add], report) if (add or remove) else {}
        try:
            for key, people in remove.items():  # leavers first: a mass send must not reach them
                self._apply(key, tag_ids[key], people, tagging=False, report=report, stop=stop)
            for key, people in add.items():
                self._apply(key, tag_ids[key], people, tagging=True, report=report, stop=stop)
        except _Stopped as exc:
            report.stopped = exc.code
        report.seconds = time.monotonic() - started
        return report

    def _apply(self, key: str, tag_id: int, people: list[tuple[int, str]], *, tagging: bool,
               report: SyncReport, stop: threading.Event | None) -> None:
        for i in range(0, len(people), self._batch):
            if stop is not None and stop.is_set():
                raise _Stopped("stopped")
            chunk = people[i:i + self._batch]
            done = self._call(tag_id, [(sid, str(self._unseal(s))) for sid, s in chunk], tagging, report)
            self._record(key, done, tagging)
            if tagging:
                report.tagged += len(done)
                report.by_tag[key] = report.by_tag.get(key, 0) + len(done)
            else:
                report.untagged += len(done)

    def _call(self, tag_id: int, chunk: list[tuple[int, str]], tagging: bool, report: SyncReport) -> list[int]:
        """The subscriber ids WeChat confirmed (a batch with a non-follower is split to find them)."""
        call = self._api.tag_users if tagging else self._api.untag_users
        for _attempt in range(5):
            self._pacer.wait()
            report.calls += 1
            try:
                call(tag_id, [openid for _, openid in chunk])
                return [sid for sid, _ in chunk]
            except Exception as exc:
                code = str(getattr(exc, "code", type(exc).__name__))
                if code in STOP:
                    raise _Stopped(code) from exc
                if code in SLOW_DOWN:
                    time.sleep(SLOW_DOWN[code])
                    continue
                if code in NOT_A_FOLLOWER and len(chunk) > 1:
                    half = len(chunk) // 2
                    return (self._call(tag_id, chunk[:half], tagging, report)
                            + self._call(tag_id, chunk[half:], tagging, report))
                if code in NOT_A_FOLLOWER:
                    self._not_a_follower(chunk[0][0], code)
                    report.not_followers.add(chunk[0][0])
                    return [] if tagging else [chunk[0][0]]  # nothing to untag on WeChat's side
                raise
        raise _Stopped("busy")

    def _record(self, key: str, subscriber_ids: list[int], tagging: bool) -> None:
        if not subscriber_ids:
            return
        with self._sessions() as session:
            session.execute(delete(WeChatTagMember).where(
                WeChatTagMember.tag_key == key, WeChatTagMember.subscriber_id.in_(subscriber_ids)))
            if tagging:
                session.execute(insert(WeChatTagMember), [
                    {"subscriber_id": sid, "tag_key": key} for sid in subscriber_ids])
            try:
                session.commit()
            except IntegrityError:  # another process recorded the same batch at the same moment
                session.rollback()

    def _not_a_follower(self, subscriber_id: int, code: str) -> None:
        with self._sessions() as session:
            sub = session.get(Subscriber, subscriber_id)
            if sub is not None:
                sub.reachable, sub.last_error = False, code
                session.commit()


class _Stopped(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code
