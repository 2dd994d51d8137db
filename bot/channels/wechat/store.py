"""Small sealed values shared by every worker, in the shared_values table.

Used by the WeChat channel for its access token, for answers kept a short while for WeChat's retries,
and for each person's last buttons and unsent pages. Values are sealed with the app's draft cipher:
the database alone reveals none of them. Names are short prefixes plus keyed hashes, never chat ids.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from wechatpy.session import SessionStorage

from bot.store.db import affected
from bot.store.models import SharedValue, utcnow

NAME_MAX = 64


class Cipher(Protocol):
    def encrypt_json(self, obj: Any) -> str: ...
    def decrypt_json(self, token: str) -> Any: ...


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every value here is written in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class SharedBox:
    """Get, put and delete sealed JSON values with an expiry, visible to every process."""

    def __init__(self, sessions: Callable[[], Session], cipher: Cipher) -> None:
        self._sessions = sessions
        self._cipher = cipher

    def get(self, name: str) -> Any | None:
        found = self.get_with_expiry(name)
        return None if found is None else found[0]

    def get_with_expiry(self, name: str) -> tuple[Any, datetime] | None:
        with self._sessions() as session:
            row = session.get(SharedValue, name)
            if row is None or _aware(row.expires_at) <= utcnow():
                return None
            try:
                return self._cipher.decrypt_json(row.value), _aware(row.expires_at)
            except Exception:  # sealed under an old secret: as good as absent
                return None

    def put(self, name: str, obj: Any, ttl: float) -> None:
        if len(name) > NAME_MAX:
            raise ValueError("shared value names are at most 64 characters")
        sealed = self._cipher.encrypt_json(obj)
        expires = utcnow() + timedelta(seconds=ttl)
        with self._sessions() as session:
            row = session.get(SharedValue, name)
            if row is None:
                session.add(SharedValue(name=name, value=sealed, expires_at=expires))
            else:
                row.value, row.expires_at = sealed, expires
            try:
                session.commit()
            except IntegrityError:  # another worker inserted it first: overwrite
                session.rollback()
                session.execute(update(SharedValue).where(SharedValue.name == name)
                                .values(value=sealed, expires_at=expires, updated_at=utcnow()))
                session.commit()

    def delete(self, name: str) -> None:
        with self._sessions() as session:
            session.execute(delete(SharedValue).where(SharedValue.name == name))
            session.commit()

    def prune(self, prefix: str) -> int:
        """Delete expired values whose name starts with `prefix`."""
        with self._sessions() as session:
            result = session.execute(delete(SharedValue).where(
                SharedValue.name.startswith(prefix, autoescape=True), SharedValue.expires_at < utcnow()))
            session.commit()
        return affected(result) or 0


class TokenStorage(SessionStorage):  # type: ignore[misc]  # wechatpy has no type hints: its base is Any
    """wechatpy's session storage on the shared box: a token near its expiry reads as absent."""

    def __init__(self, box: SharedBox, *, refresh_margin: float = 300.0) -> None:
        self._box = box
        self._margin = timedelta(seconds=refresh_margin)

    @staticmethod
    def _name(key: str) -> str:
        return ("wechat:" + key)[:NAME_MAX]

    def get(self, key: str, default: Any = None) -> Any:
        found = self._box.get_with_expiry(self._name(key))
        if found is None or found[1] - utcnow() < self._margin:
            return default
        return found[0]

    def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        if value is None:
            return
        self._box.put(self._name(key), value, ttl or 7200)

    def delete(self, key: str) -> None:
        self._box.delete(self._name(key))
