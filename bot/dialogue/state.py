"""Conversation state: which flow a person is in, stored per keyed hash of (channel, user).

A tip draft is confidential: it lives in `secret`, which is written to the database only encrypted
(the draft cipher) and is erased when the flow ends. The situation a person last described (`case`: their
words, the flags it raised) is kept the same way, so that a follow-up ("那怎么办", "我要举报他们") is
understood; it is dropped after CASE_TTL seconds or when a tip takes it over.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.store.convrows import ConversationRows
from bot.store.models import Conversation, utcnow
from bot.store.uow import UnitOfWork


class Checked(Protocol):  # what a case keeps of a risk check's report
    @property
    def flag_ids(self) -> list[str]: ...
    @property
    def verdict(self) -> str: ...
    @property
    def annual_rate(self) -> float | None: ...


class DraftCipher(Protocol):
    def encrypt_json(self, obj: Any) -> str: ...
    def decrypt_json(self, token: str) -> Any: ...


CASE_TTL = 30 * 60
CASE_TEXT_MAX = 600  # characters of the person's words kept with a case
PLAIN_CASE = "case0"  # the topic and time of an ordinary story (no words of the person's)
EXPIRING = frozenset({"tip"})  # flows whose draft is erased when left idle


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
_SEALED_KEYS = frozenset({"draft", "case"})
# the state is read and written on the session's connection with these statements, built once: a turn does not
# pay for the ORM's unit of work on a row nothing else in the turn touches
_TABLE = cast(Table, Conversation.__table__)
_SELECT = select(_TABLE.c.flow, _TABLE.c.step, _TABLE.c.data, _TABLE.c.sealed,
                 _TABLE.c.updated_at).where(_TABLE.c.key == bindparam("key"))


@dataclass
class State:
    flow: str | None = None
    step: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    secret: dict[str, Any] | None = None
    case: dict[str, Any] | None = None  # the situation last described, sealed at rest like a draft
    expired: str | None = None  # the flow whose draft was just erased for being left too long (not stored)
    stored: str | None = field(default=None, repr=False)  # what the database holds, as loaded: no write if unchanged

    def snapshot(self) -> str:
        """The state as one comparable string (the words in it are never logged or stored in clear)."""
        return json.dumps([self.flow, self.step, self.data, self.secret, self.case], sort_keys=True, default=str)

    def fresh_case(self, now: float | None = None) -> dict[str, Any] | None:
        """The case, if it was described in the last CASE_TTL seconds."""
        case = self.case or self.data.get(PLAIN_CASE)
        if case and (now or time.time()) - float(case.get("at", 0)) <= CASE_TTL:
            return dict(case)
        return None

    def keep_checked(self, text: str, report: Checked, topic: str, at: float, pasted: bool = False) -> None:
        """A text the risk check flagged (their story, or a pitch they pasted): kept sealed, with the flags, for
        the follow-ups; "更多" now opens its details."""
        self.keep_case({"text": text[:CASE_TEXT_MAX], "flags": list(report.flag_ids), "verdict": report.verdict,
                        "topic": topic, "rate": report.annual_rate, "at": at, "pasted": pasted})
        self.data["more"] = "case"

    def keep_case(self, case: dict[str, Any]) -> None:
        """A case with flags is kept sealed, with the person's words; one without (an ordinary story) only as
        its topic and time, in the open part: no words of theirs, nothing to encrypt on every turn."""
        if case.get("flags"):
            self.case = case
            self.data.pop(PLAIN_CASE, None)
        else:
            self.case = None
            self.data.pop("more", None)
            self.data[PLAIN_CASE] = {"flags": [], "verdict": "none", "topic": case.get("topic"), "at": case["at"]}

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
    def __init__(self, cipher: DraftCipher, draft_ttl: timedelta = timedelta(minutes=30),
                 rows: ConversationRows | None = None) -> None:
        self._cipher = cipher
        self._draft_ttl = draft_ttl
        self._rows = rows  # the row through the driver (SQLite, PostgreSQL): no session for a turn that needs none

    def load(self, uow: UnitOfWork, key: str) -> State:
        """The state as stored. Through the driver when it can (no session is opened), else in the session."""
        row: Any = self._rows.read(key) if self._rows is not None else (
            uow.session.connection().execute(_SELECT, {"key": key}).first())
        if row is None:
            return State()
        if row.flow in EXPIRING and row.updated_at is not None and _aware(row.updated_at) < utcnow() - self._draft_ttl:
            # a tip left half-written: erased, and the person is told so on this turn
            data = {k: v for k, v in (row.data or {}).items() if not k.startswith("f_")}
            return State(data=data, expired=row.flow)
        secret, case = None, None
        if row.sealed:
            try:
                sealed = self._cipher.decrypt_json(row.sealed)
            except Exception:  # a draft sealed under an old key cannot be read: start afresh
                return State(data=dict(row.data or {}))
            if isinstance(sealed, dict) and sealed and set(sealed) <= _SEALED_KEYS:
                secret, case = sealed.get("draft"), sealed.get("case")
            else:  # written before cases were kept: the draft alone
                secret = sealed
        state = State(row.flow, row.step, dict(row.data or {}), secret, case)
        state.stored = state.snapshot()
        return state

    @staticmethod
    def flow_of(session: Session, key: str) -> str | None:
        """The flow a conversation is in, as stored (nothing unsealed)."""
        row = session.get(Conversation, key)
        return row.flow if row is not None else None

    def save(self, uow: UnitOfWork, key: str, state: State) -> None:
        """Write the state in one statement (an upsert); nothing when a turn outside a flow changed nothing.

        Inside a flow every turn is written, so a draft's idle time counts from the person's last message. When the
        turn wrote something else in the session (a tip, a subscription), the state goes in the same transaction and
        the caller commits both; otherwise it is written and committed on its own, through the driver."""
        if state.flow is None and state.stored is not None and state.stored == state.snapshot():
            return
        sealed = {k: v for k, v in (("draft", state.secret), ("case", state.case)) if v}
        token = self._cipher.encrypt_json(sealed) if sealed else None
        state.stored = None  # saved once a turn: what was stored is not compared again
        if self._rows is not None and not uow.begun:
            self._rows.write(key, state.flow, state.step, dict(state.data), token, utcnow())
            return
        values = {"flow": state.flow, "step": state.step, "data": dict(state.data), "sealed": token,
                  "updated_at": utcnow()}
        session = uow.session
        upsert = _upsert(session.get_bind().dialect.name)
        if upsert is None:  # another database: the ORM's merge (a read, then an insert or an update)
            session.merge(Conversation(key=key, **values))
        else:
            session.connection().execute(upsert, {"key": key, **values})


@lru_cache(maxsize=4)
def _upsert(dialect: str) -> Any:
    """INSERT … ON CONFLICT (key) DO UPDATE, built once per database kind (its compiled form is cached too)."""
    columns = ("flow", "step", "data", "sealed", "updated_at")
    if dialect == "postgresql":
        pg = postgresql.insert(_TABLE)
        return pg.on_conflict_do_update(index_elements=[_TABLE.c.key], set_={c: pg.excluded[c] for c in columns})
    if dialect == "sqlite":
        lite = sqlite.insert(_TABLE)
        return lite.on_conflict_do_update(index_elements=[_TABLE.c.key], set_={c: lite.excluded[c] for c in columns})
    return None
