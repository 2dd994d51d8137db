"""Staff accounts: create, find, list, deactivate, change password, (re)issue TOTP."""

from __future__ import annotations

import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.offices import OfficeDirectory
from bot.staff.credentials import check_policy, new_totp_secret, provisioning_uri
from bot.staff.roles import ROLES, TOTP_REQUIRED
from bot.store.console_models import StaffAccount, StaffSession
from bot.store.models import utcnow
from bot.tips.ciphers import DraftCipher

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")


class StaffError(ValueError):
    """A staff account request that cannot be done; the message says why (Chinese, for staff)."""


@dataclass(frozen=True)
class Issued:
    """A new account (or a new TOTP): the secret is shown once and never again."""

    account: StaffAccount
    totp_secret: str | None

    @property
    def totp_uri(self) -> str | None:
        return provisioning_uri(self.totp_secret, self.account.username) if self.totp_secret else None


class StaffDirectory:
    def __init__(self, offices: OfficeDirectory, hasher: PasswordHasher, totp_cipher: DraftCipher) -> None:
        self.offices = offices
        self.hasher = hasher
        self._totp = totp_cipher

    def add(self, session: Session, *, username: str, display_name: str, office_code: str, role: str,
            password: str, totp: bool = False) -> Issued:
        """Create an account. Supervisors and admins always get TOTP; handlers when `totp` is set."""
        username = username.strip().lower()
        if not USERNAME.match(username):
            raise StaffError("用户名只能用小写字母、数字和 . _ -，2-32位")
        if role not in ROLES:
            raise StaffError(f"角色必须是 {', '.join(ROLES)} 之一")
        if self.offices.get(office_code) is None:
            raise StaffError(f"没有这个单位：{office_code}")
        if not display_name.strip() or len(display_name) > 64:
            raise StaffError("请填写姓名（64字以内）")
        if self.by_username(session, username) is not None:
            raise StaffError(f"用户名已存在：{username}")
        check_policy(password)
        secret = new_totp_secret() if (totp or role in TOTP_REQUIRED) else None
        account = StaffAccount(username=username, display_name=display_name.strip(), office_code=office_code,
                               role=role, password_hash=self.hasher.hash(password), active=True,
                               totp_sealed=self._totp.encrypt_json(secret) if secret else None)
        session.add(account)
        session.flush()
        return Issued(account, secret)

    def by_username(self, session: Session, username: str) -> StaffAccount | None:
        return session.scalars(select(StaffAccount).where(StaffAccount.username == username.strip().lower())).first()

    def get(self, session: Session, staff_id: int) -> StaffAccount | None:
        return session.get(StaffAccount, staff_id)

    def list(self, session: Session, offices: frozenset[str] | None = None,
             active_only: bool = False) -> list[StaffAccount]:
        query = select(StaffAccount).order_by(StaffAccount.office_code, StaffAccount.username)
        if offices is not None:
            query = query.where(StaffAccount.office_code.in_(offices))
        if active_only:
            query = query.where(StaffAccount.active.is_(True))
        return list(session.scalars(query))

    def totp_secret(self, account: StaffAccount) -> str | None:
        return str(self._totp.decrypt_json(account.totp_sealed)) if account.totp_sealed else None

    def reset_totp(self, session: Session, account: StaffAccount) -> Issued:
        secret = new_totp_secret()
        account.totp_sealed, account.totp_last_step = self._totp.encrypt_json(secret), None
        self.end_sessions(session, account)
        return Issued(account, secret)

    def set_password(self, session: Session, account: StaffAccount, password: str) -> None:
        check_policy(password)
        account.password_hash = self.hasher.hash(password)
        self.end_sessions(session, account)

    def set_active(self, session: Session, account: StaffAccount, active: bool) -> None:
        account.active = active
        if not active:
            self.end_sessions(session, account)

    def end_sessions(self, session: Session, account: StaffAccount) -> None:
        """End every open session of this account (its unlocked keys go with the next sweep)."""
        for row in session.scalars(select(StaffSession).where(StaffSession.staff_id == account.id,
                                                               StaffSession.ended_at.is_(None))):
            row.ended_at = utcnow()
