"""One signed-in person at the console, with the unit of work of their request: what every staff use case
(bot/staff/tipdesk.py, queuedesk.py, officedesk.py, auditlog.py) is given. The web layer only verifies,
parses, calls and renders; every read and write of the database happens here and in those modules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.staff import roles
from bot.staff.kit import StaffKit
from bot.staff.sessions import Current, KeyRing
from bot.store.console_models import StaffAccount
from bot.store.models import AuditEntry, Tip
from bot.store.uow import UnitOfWork
from bot.tips.sealing import UnlockedOfficeKey

if TYPE_CHECKING:
    from bot.settings import Settings

NOT_FOUND = "没有这条线索，或您无权查看。"


class DeskError(Exception):
    """A console action refused: `kind` is missing, forbidden, invalid or throttled; the message says why."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass
class Desk:
    uow: UnitOfWork
    kit: StaffKit
    settings: Settings
    current: Current
    key: UnlockedOfficeKey | None = None

    @property
    def staff(self) -> StaffAccount:
        return self.current.account

    @property
    def actor(self) -> str:
        return self.staff.username

    @property
    def city(self) -> str:
        return self.kit.city_code

    @property
    def scope(self) -> frozenset[str] | None:
        return roles.visible_offices(self.staff, self.city)

    @property
    def office(self) -> str:
        return self.staff.office_code

    def commit(self) -> None:
        self.uow.commit()

    def rollback(self) -> None:
        self.uow.session.rollback()

    def audit(self, action: str, tip_id: int | None = None, reason: str | None = None) -> None:
        """One audit row, written with the next commit."""
        self.uow.session.add(AuditEntry(actor=self.actor, action=action, tip_id=tip_id, reason=reason))

    def audited(self, action: str, tip_id: int | None = None, reason: str | None = None) -> None:
        """One audit row, committed now."""
        self.audit(action, tip_id, reason)
        self.commit()

    def tip(self, tip_id: int) -> Tip:
        """The tip if this person may see it; the same refusal whether it does not exist or is out of scope."""
        tip = self.uow.session.get(Tip, tip_id)
        if tip is None or not roles.can_see(self.staff, tip, self.city):
            raise DeskError("missing", NOT_FOUND)
        return tip

    def workable(self, tip_id: int) -> Tip:
        tip = self.tip(tip_id)
        if not roles.can_work(self.staff, tip, self.city):
            raise DeskError("forbidden", "这条线索由所属县区办理，您只能查看概要。")
        return tip

    def people(self) -> dict[str, str]:
        """Usernames to the names people know each other by (staff of every office: names are not secret)."""
        return {a.username: a.display_name for a in self.kit.directory.list(self.uow.session)}


def open_desk(uow: UnitOfWork, kit: StaffKit, settings: Settings, keyring: KeyRing,
              token: str | None) -> Desk | None:
    """The desk of a live session (touched and committed), or None; keys of sessions gone are dropped."""
    current = kit.sessions.resolve(uow.session, token)
    uow.commit()
    if current is None:
        if token:
            keyring.drop(kit.sessions.session_id(token))
        return None
    keyring.keep_only(kit.sessions.live_ids(uow.session, keyring.session_ids()))
    return Desk(uow, kit, settings, current, keyring.get(current.session_id, current.account.office_code))
