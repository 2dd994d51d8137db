"""Point 3: every throttle is reserve-then-check. Concurrent bursts are evaluated at most `limit` times, a TOTP
code signs in once, and one console session never runs two key unlocks (Argon2) at once. SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from bot.staff.auth import PER_ACCOUNT
from bot.staff.officedesk import UNLOCK_LIMIT
from bot.store.models import AuditEntry
from tests.integration.test_console_security import add_staff, console, csrf_of, sign_in, totp  # noqa: F401


def _burst(n: int, attempt):  # type: ignore[no-untyped-def]
    """Run `attempt(i)` n times at once (released together by a barrier); their results."""
    barrier = threading.Barrier(n)

    def go(i: int):  # type: ignore[no-untyped-def]
        barrier.wait()
        return attempt(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(go, range(n)))


def _audited(svc, action: str) -> int:  # type: ignore[no-untyped-def]
    with svc.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action))


def test_forty_concurrent_wrong_passwords_are_evaluated_at_most_the_limit(services):
    add_staff(services, "victim", "shiquan")
    kit = services.staff

    def attempt(i: int):  # type: ignore[no-untyped-def]
        with services.uow() as uow:
            result = kit.auth.login(uow.session, "victim", f"wrong guess {i}", "", f"198.51.100.{i}")
            uow.commit()
            return result.error

    errors = _burst(40, attempt)
    evaluated = _audited(services, "login_failed")  # one row per password actually checked
    assert evaluated <= PER_ACCOUNT, evaluated
    assert errors.count("登录失败次数太多，请15分钟后再试。") == 40 - evaluated


def test_one_totp_code_in_eight_concurrent_logins_gives_one_session(services):
    secret = add_staff(services, "boss", "shiquan", role="supervisor", totp=True)
    kit = services.staff
    code = totp(secret)

    def attempt(i: int) -> bool:
        with services.uow() as uow:
            result = kit.auth.login(uow.session, "boss", "correct horse battery staple", code, f"203.0.113.{i}")
            uow.commit()
            return result.ok

    assert sum(_burst(8, attempt)) == 1


def test_concurrent_wrong_passphrases_run_argon2_at_most_the_limit_and_one_at_a_time(console):  # noqa: F811
    client, svc = console
    add_staff(svc, "sq-unlock", "shiquan")
    sign_in(client, "sq-unlock")
    token = csrf_of(client, "/console/key")
    running, peak, lock = [0], [0], threading.Lock()

    def attempt(i: int) -> int:
        r = client.post("/console/key", data={"csrf": token, "passphrase": f"not it {i}"}, follow_redirects=False)
        return r.status_code

    from bot.tips import keys as keys_module

    real_unlock = keys_module.OfficeKeyFile.unlock

    def counted(self, passphrase):  # type: ignore[no-untyped-def]
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        try:
            return real_unlock(self, passphrase)
        finally:
            with lock:
                running[0] -= 1

    keys_module.OfficeKeyFile.unlock = counted  # our own class: counts Argon2 runs, changes nothing
    try:
        statuses = _burst(20, attempt)
    finally:
        keys_module.OfficeKeyFile.unlock = real_unlock
    runs = _audited(svc, "key_unlock_failed")
    assert set(statuses) <= {401, 429} and statuses.count(401) == runs
    assert 1 <= runs <= UNLOCK_LIMIT and peak[0] == 1
