"""Once-only handling of platform messages that the platform may deliver several times."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.store.db import affected
from bot.store.models import InboundSeen, utcnow


class InboundDeduper:
    """`first_time` is True for exactly one caller per (channel, id), across processes and machines."""

    def __init__(self, sessions: Callable[[], Session], keyer: Callable[[str, str], str]) -> None:
        self._sessions = sessions
        self._keyer = keyer

    def first_time(self, channel: str, message_id: str) -> bool:
        key = self._keyer("inbound", f"{channel}:{message_id}")
        with self._sessions() as session:
            session.add(InboundSeen(channel=channel, key=key))
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                return False
        return True

    def forget(self, channel: str, message_id: str) -> None:
        """Let a message be handled again (its first handling failed before any effect)."""
        key = self._keyer("inbound", f"{channel}:{message_id}")
        with self._sessions() as session:
            session.execute(delete(InboundSeen).where(InboundSeen.channel == channel, InboundSeen.key == key))
            session.commit()

    def prune(self, session: Session, older_than: timedelta = timedelta(days=2)) -> int:
        result = session.execute(delete(InboundSeen).where(InboundSeen.created_at < utcnow() - older_than))
        return affected(result) or 0
