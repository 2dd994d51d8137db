"""Conversation state: which flow a person is in, stored per keyed hash of (channel, user).

A tip draft is confidential: it lives in `secret`, which is written to the database only encrypted
(the draft cipher) and is erased when the flow ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session

from bot.store.models import Conversation, utcnow


class DraftCipher(Protocol):
    def encrypt_json(self, obj: Any) -> str: ...
    def decrypt_json(self, token: str) -> Any: ...


@dataclass
class State:
    flow: str | None = None
    step: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    secret: dict[str, Any] | None = None

    def enter(self, flow: str, step: str) -> None:
        self.flow, self.step, self.secret = flow, step, None
        for k in [k for k in self.data if k.startswith("f_")]:
            del self.data[k]

    def leave(self) -> None:
        self.flow = self.step = None
        self.secret = None
        for k in [k for k in self.data if k.startswith("f_")]:
            del self.data[k]


class StateRepository:
    def __init__(self, cipher: DraftCipher) -> None:
        self._cipher = cipher

    def load(self, session: Session, key: str) -> State:
        row = session.get(Conversation, key)
        if row is None:
            return State()
        secret = None
        if row.sealed:
            try:
                secret = self._cipher.decrypt_json(row.sealed)
            except Exception:  # a draft sealed under an old key cannot be read: start afresh
                return State(data=dict(row.data or {}))
        return State(row.flow, row.step, dict(row.data or {}), secret)

    def save(self, session: Session, key: str, state: State) -> None:
        row = session.get(Conversation, key)
        if row is None:
            row = Conversation(key=key)
            session.add(row)
        row.flow, row.step, row.data = state.flow, state.step, dict(state.data)
        row.sealed = self._cipher.encrypt_json(state.secret) if state.secret else None
        row.updated_at = utcnow()
