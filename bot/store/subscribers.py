"""Subscribers: who gets campaign pushes. Chat ids are sealed; look-ups use a keyed hash."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from bot.store.models import Subscriber, utcnow

AUDIENCES = {
    "elderly": "老年人及家属",
    "student": "大学生和应届毕业生",
    "finance_staff": "金融机构员工和代办员",
    "civil_servant": "公务人员",
    "low_income": "低收入家庭",  # a target group of the seeds (Ankang §8; Suzhou: 贫困人群)
    "public": "普通群众",
}


_BY_KEY = select(Subscriber).where(Subscriber.key == bindparam("key"))  # built once (as in ratelimit.py)


class SubscriberRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, key: str) -> Subscriber | None:
        return self.session.scalars(_BY_KEY, {"key": key}).first()

    def subscribe(
        self, key: str, channel: str, sealed_chat_id: str, audience: str, county: str | None
    ) -> Subscriber:
        if audience not in AUDIENCES:
            raise ValueError(f"unknown audience {audience!r}")
        sub = self.get(key)
        if sub is None:
            sub = Subscriber(key=key, channel=channel, sealed_chat_id=sealed_chat_id)
            self.session.add(sub)
        sub.audience, sub.county = audience, county
        sub.opted_in, sub.reachable, sub.last_error = True, True, None
        sub.last_interaction = utcnow()
        return sub

    def unsubscribe(self, key: str) -> bool:
        sub = self.get(key)
        if sub is None or not sub.opted_in:
            return False
        sub.opted_in = False
        return True

    def touch(self, key: str) -> None:
        """Record an interaction (WeChat's 48-hour customer-service window starts again)."""
        sub = self.get(key)
        if sub is not None:
            sub.last_interaction = utcnow()
            sub.reachable, sub.last_error = True, None  # they wrote to us: the platform will deliver again
