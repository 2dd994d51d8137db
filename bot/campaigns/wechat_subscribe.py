"""订阅通知 (subscribe messages): a campaign message to people who accepted the configured template,
else a customer-service message within 48 hours, else nobody (not reachable, "no_consent").

A person accepts in WeChat's pop-up; WeChat tells the bot with `subscribe_msg_popup_event` (or
`subscribe_msg_change_event` when they change it in settings), recorded by `record_consent`: each
acceptance of a one-time template allows one message; a long-term template (长期订阅, granted to
government and public-service accounts) allows any number until the person rejects it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, timedelta
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import Sender, SendResult
from bot.messages import Outbound
from bot.store.campaign_models import WeChatConsent
from bot.store.db import affected
from bot.store.models import Subscriber, utcnow

log = logging.getLogger(__name__)
REFUSED = {"43101"}           # the person has no (more) consent for this template
BLOCKED = {"40003", "43004"}  # not a follower


class SubscribeApi(Protocol):
    def send_subscribe(self, openid: str, template_id: str, data: dict[str, Any], page: str | None) -> None: ...


def record_consent(session: Session, subscriber_key: str, answers: dict[str, str]) -> int:
    """Store a person's pop-up answers (template id → accept | reject); the number stored."""
    sub = session.scalars(select(Subscriber).where(Subscriber.key == subscriber_key)).first()
    if sub is None:
        return 0
    for template_id, answer in answers.items():
        row = session.get(WeChatConsent, (sub.id, template_id[:64]))
        if row is None:
            row = WeChatConsent(subscriber_id=sub.id, template_id=template_id[:64], uses_left=0)
            session.add(row)
        row.uses_left = row.uses_left + 1 if answer == "accept" else 0
        row.updated_at = utcnow()
    return len(answers)


def parse_fields(spec: str) -> dict[str, str]:
    """"thing1=title,thing2=summary" → {"thing1": "title", "thing2": "summary"}."""
    pairs = (p.split("=", 1) for p in spec.split(",") if "=" in p)
    return {k.strip(): v.strip() for k, v in pairs if k.strip()}


class SubscribeSender:
    """A `Sender` for channel "wechat" on the subscribe path."""

    channel = "wechat"

    def __init__(self, sessions: sessionmaker[Session], api: SubscribeApi, fallback: Sender, *,
                 keyer: Callable[[str], str], template: str, fields: dict[str, str], long_term: bool = False,
                 window_hours: int = 48) -> None:
        self._sessions, self._api, self._fallback, self._key = sessions, api, fallback, keyer
        self._window = timedelta(hours=window_hours)
        self.template, self._fields, self._long_term = template, fields, long_term

    async def send(self, chat_id: str, messages: Sequence[Outbound]) -> SendResult:
        consent, recent = self._take(chat_id)
        if consent is None:
            if not recent:  # no consent, no window: no call (and the person stays reachable for later)
                return SendResult("unreachable", error="no_consent")
            result = await self._fallback.send(chat_id, messages)
            return SendResult(result.status, result.retry_after, result.error, via="service")
        try:
            await asyncio.to_thread(self._api.send_subscribe, chat_id, self.template, self._data(messages), None)
        except Exception as exc:
            code = str(getattr(exc, "code", None) or type(exc).__name__)
            log.warning("wechat subscribe message refused", extra={"errcode": code})
            self._give_back(consent, refused=code in REFUSED)
            if code in REFUSED:  # consent gone: customer service if still inside the window
                result = await self._fallback.send(chat_id, messages)
                return SendResult(result.status, result.retry_after, result.error, via="service")
            if code in BLOCKED:
                return SendResult("blocked", error=code)
            return SendResult("retry" if not code.isdigit() else "failed", retry_after=5.0, error=code)
        return SendResult("sent", via="subscribe")

    def _data(self, messages: Sequence[Outbound]) -> dict[str, Any]:
        text = messages[0].text if messages else ""
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        title = lines[0].strip("【】") if lines else ""
        summary = lines[1] if len(lines) > 1 else title
        parts = {"title": title, "summary": summary, "date": utcnow().strftime("%Y-%m-%d")}
        return {field: {"value": parts.get(what, what)[:20]} for field, what in self._fields.items()}

    def _take(self, openid: str) -> tuple[int | None, bool]:
        """Use one acceptance: (the subscriber id, or None when there is none to use; whether the
        person is inside the customer-service window)."""
        with self._sessions() as session:
            row = session.execute(select(Subscriber.id, Subscriber.last_interaction).where(
                Subscriber.key == self._key(openid))).first()
            if row is None:
                return None, True  # not a subscriber: WeChat itself enforces the window
            sid, last = row
            recent = utcnow() - (last if last.tzinfo else last.replace(tzinfo=UTC)) < self._window
            cond = [WeChatConsent.subscriber_id == sid, WeChatConsent.template_id == self.template,
                    WeChatConsent.uses_left > 0]
            if self._long_term:
                res = session.execute(select(WeChatConsent.subscriber_id).where(*cond)).first()
                return (sid if res is not None else None), recent
            taken = session.execute(update(WeChatConsent).where(*cond).values(
                uses_left=WeChatConsent.uses_left - 1, updated_at=utcnow()))
            session.commit()
            return (sid if affected(taken) == 1 else None), recent

    def _give_back(self, subscriber_id: int, *, refused: bool) -> None:
        with self._sessions() as session:
            values: dict[str, Any] = {"uses_left": 0} if refused else (
                {} if self._long_term else {"uses_left": WeChatConsent.uses_left + 1})
            if values:
                session.execute(update(WeChatConsent).where(
                    WeChatConsent.subscriber_id == subscriber_id, WeChatConsent.template_id == self.template)
                    .values(**values))
                session.commit()
