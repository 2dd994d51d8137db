"""Signing in and out, and unlocking the office key for a session (the key itself stays in the web
layer's memory, per session): each attempt throttled and audited."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from bot.staff.auth import LoginResult
from bot.staff.desk import Desk
from bot.staff.kit import StaffKit
from bot.store.models import Office
from bot.store.ratelimit import RateLimiter
from bot.store.uow import UnitOfWork
from bot.tips.keys import NoOfficeKey, unlock
from bot.tips.sealing import SealingError, UnlockedOfficeKey

UNLOCK_LIMIT, UNLOCK_WINDOW = 5, timedelta(minutes=15)


def sign_in(uow: UnitOfWork, kit: StaffKit, username: str, password: str, code: str,
            address: str | None) -> tuple[LoginResult, str | None]:
    """Check password and TOTP (throttled); the result, and a new session's token when it succeeded."""
    result = kit.auth.login(uow.session, username, password, code, address)
    token = kit.sessions.create(uow.session, result.account) if result.account else None
    uow.commit()
    return result, token


def sign_out(desk: Desk) -> None:
    """End this session (audited)."""
    desk.kit.sessions.end(desk.uow.session, desk.current.session_id)
    desk.audited("logout")


def office_row(desk: Desk) -> Office | None:
    """This person's office as stored (its key, development or not)."""
    return desk.uow.session.get(Office, desk.office)


def try_unlock(desk: Desk, passphrase: str,
               digest: Callable[[str, str], str]) -> UnlockedOfficeKey | tuple[int, str]:
    """The office key, or (status, message). The attempt is reserved and committed before Argon2 runs."""
    session = desk.uow.session
    limiter = RateLimiter(session)
    bucket_key = digest("staff-unlock", str(desk.staff.id))
    if not limiter.reserve("staff_unlock", bucket_key, UNLOCK_LIMIT, UNLOCK_WINDOW):
        desk.commit()
        return 429, "解锁失败次数太多，请15分钟后再试。"
    desk.commit()  # the attempt counts before the slow part; the gate is free again
    try:
        key = unlock(session, desk.office, passphrase)
    except NoOfficeKey:
        limiter.release("staff_unlock", bucket_key)
        desk.commit()
        return 409, "本单位还没有密钥，请管理员运行 fundguard office keygen。"
    except SealingError:
        desk.audited("key_unlock_failed")
        return 401, "口令不对，密钥没有解锁。"
    limiter.release("staff_unlock", bucket_key)
    return key
