"""Signing in: password (Argon2id), TOTP where set or required, and throttling of failures."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from bot.staff.accounts import StaffDirectory
from bot.staff.credentials import totp_step, verify_password
from bot.staff.roles import TOTP_REQUIRED
from bot.store.console_models import StaffAccount
from bot.store.db import affected
from bot.store.models import AuditEntry, utcnow
from bot.store.ratelimit import RateLimiter

WINDOW = timedelta(minutes=15)
PER_ACCOUNT = 5
PER_ADDRESS = 30
THROTTLED = "登录失败次数太多，请15分钟后再试。"
FAILED = "用户名、密码或动态码不对。"


@dataclass(frozen=True)
class LoginResult:
    account: StaffAccount | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.account is not None


class Authenticator:
    def __init__(self, directory: StaffDirectory, digest: Callable[[str, str], str]) -> None:
        self.directory = directory
        self._digest = digest
        # verify against this when the user does not exist, so timing does not tell
        self._dummy = directory.hasher.hash("not a real password, only for timing")

    def login(self, session: Session, username: str, password: str, code: str, address: str | None) -> LoginResult:
        limiter = RateLimiter(session)
        user_key = self._digest("staff-login", username.strip().lower())
        addr_key = self._digest("staff-login-ip", address or "-")
        # Reserve before evaluating (the gates queue concurrent attempts on one account or address).
        if not limiter.reserve("staff_login", user_key, PER_ACCOUNT, WINDOW):
            return LoginResult(None, THROTTLED)
        if not limiter.reserve("staff_login_ip", addr_key, PER_ADDRESS, WINDOW):
            limiter.release("staff_login", user_key)
            return LoginResult(None, THROTTLED)
        account = self.directory.by_username(session, username) if username.strip() else None
        stored = account.password_hash if account is not None else self._dummy
        good = verify_password(self.directory.hasher, stored, password) and account is not None and account.active
        if good and account is not None:
            good = self._second_factor(session, account, code)
        if not good or account is None:  # the reservations stay: they count as failures
            session.add(AuditEntry(actor=account.username if account else "-", action="login_failed"))
            return LoginResult(None, FAILED)
        if self.directory.hasher.check_needs_rehash(account.password_hash):
            account.password_hash = self.directory.hasher.hash(password)
        limiter.clear("staff_login", user_key)
        limiter.release("staff_login_ip", addr_key)
        account.last_login_at = utcnow()
        session.add(AuditEntry(actor=account.username, action="login"))
        return LoginResult(account)

    def _second_factor(self, session: Session, account: StaffAccount, code: str) -> bool:
        secret = self.directory.totp_secret(account)
        if secret is None:
            return account.role not in TOTP_REQUIRED  # a supervisor or admin without TOTP cannot sign in
        step = totp_step(code, secret, account.totp_last_step)
        if step is None:
            return False
        # Single use under concurrency: only one transaction can move the last step forward to this step.
        moved = session.execute(
            update(StaffAccount).where(StaffAccount.id == account.id, or_(
                StaffAccount.totp_last_step.is_(None), StaffAccount.totp_last_step < step))
            .values(totp_last_step=step).execution_options(synchronize_session=False))
        if affected(moved) != 1:
            return False
        account.totp_last_step = step
        return True
