"""The staff console's security (TestClient over https, SQLite and PostgreSQL): scope, CSRF, inert
tip text, locked keys, audit rows, sign-in throttling, session expiry, TOTP."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from bot.store.console_models import StaffAccount, StaffSession
from bot.store.models import AuditEntry, Tip, utcnow
from bot.tips.keys import DEV_PASSPHRASE
from tests.integration.test_chat_api import say
from webhook.app import create_app

PASSWORD = "correct horse battery staple"
COMPANY = "鑫盛祥瑞农业合作社"
DETAIL = "每月返息三分保本保息拉人头再奖励"
PHONE = "13912345678"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


# --- helpers (also used by test_console_work.py) --------------------------------------------------
@pytest.fixture
def console(make_services, db_url):
    """(client over https, services): the app with the console, on SQLite and PostgreSQL."""
    svc = make_services(db_url)
    app = create_app(services=svc)
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as client:
        yield client, svc
    svc.db.dispose()


def add_staff(svc, username: str, office: str, role: str = "handler", totp: bool = False) -> str | None:
    """Create an account directly; returns its TOTP secret (None when it has none)."""
    kit = svc.staff
    with svc.uow() as uow:
        issued = kit.directory.add(uow.session, username=username, display_name=username.title(),
                                   office_code=office, role=role, password=PASSWORD, totp=totp)
        uow.commit()
    return issued.totp_secret


def totp(secret: str, ahead: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * ahead)


def csrf_of(client, path: str = "/console/") -> str:
    r = client.get(path)
    assert r.status_code == 200, r.text
    return CSRF.search(r.text).group(1)


def login(client, username: str, secret: str | None = None, *, password: str = PASSWORD, code: str | None = None):
    client.cookies.clear()
    token = csrf_of(client, "/console/login")
    code = code if code is not None else (totp(secret) if secret else "")
    return client.post("/console/login", data={"csrf": token, "username": username, "password": password,
                                               "code": code}, follow_redirects=False)


def sign_in(client, username: str, secret: str | None = None) -> None:
    r = login(client, username, secret)
    assert r.status_code == 303 and r.headers["location"] == "/console/", r.text


def unlock(client, passphrase: str = DEV_PASSPHRASE):
    return client.post("/console/key", data={"csrf": csrf_of(client, "/console/key"), "passphrase": passphrase},
                       follow_redirects=False)


def file_via_chat(client, user: str, *, region: str = "石泉县", subject: str = COMPANY,
                  description: str = f"他们在村里开会宣传，{DETAIL}", amount: str = "跳过",
                  contact: str = "匿名") -> str:
    answers = {"region": region, "subject": subject, "description": description, "amount": amount,
               "participants": "跳过", "evidence": "跳过", "contact": contact, "confirm": "确认"}
    body = say(client, user, "我要举报")
    while body["expects"]:
        body = say(client, user, answers[body["expects"]])
    assert body["receipt"], body
    return body["receipt"]


def last_tip_id(svc) -> int:
    with svc.uow() as uow:
        return uow.session.scalar(select(func.max(Tip.id)))


def audit(svc, action: str, tip_id: int | None = None) -> list[tuple[str, int | None, str | None]]:
    """(actor, tip id, reason) of the audit rows of one action, oldest first."""
    with svc.uow() as uow:
        query = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        if tip_id is not None:
            query = query.where(AuditEntry.tip_id == tip_id)
        return [(a.actor, a.tip_id, a.reason) for a in uow.session.scalars(query)]


# --- scope ------------------------------------------------------------------------------------------
def test_a_county_handler_cannot_reach_another_countys_tip(console):
    client, svc = console
    file_via_chat(client, "t-hanbin", region="汉滨区")
    other = last_tip_id(svc)
    file_via_chat(client, "t-shiquan", region="石泉县")
    own = last_tip_id(svc)
    add_staff(svc, "sq-handler", "shiquan")
    sign_in(client, "sq-handler")
    assert unlock(client).status_code == 303
    queue = client.get("/console/").text
    assert f'data-tip="{own}"' in queue and f'data-tip="{other}"' not in queue
    token = csrf_of(client)
    missing = client.get("/console/tips/999999")
    guessed = client.get(f"/console/tips/{other}")
    assert guessed.status_code == missing.status_code == 404
    assert COMPANY not in guessed.text and "汉滨区" not in guessed.text
    assert client.get(f"/console/tips/{other}/evidence/1").status_code == 404
    for action, data in (("status", {"to": "checking", "reason": "x"}), ("note", {"text": "x"}),
                         ("reply", {"text": "x"}), ("reveal", {"reason": "x"}), ("assign", {"staff_id": ""})):
        r = client.post(f"/console/tips/{other}/{action}", data={"csrf": token, **data}, follow_redirects=False)
        assert r.status_code == 404, (action, r.status_code)
    assert client.get("/console/", params={"office": "hanbin"}).text.count("data-tip=") == 0
    with svc.uow() as uow:
        assert uow.session.get(Tip, other).status == "new"
    assert audit(svc, "open", other) == []
    assert client.get(f"/console/tips/{own}").status_code == 200


def test_the_city_sees_every_county_and_works_only_urgent_ones(console):
    client, svc = console
    file_via_chat(client, "c-1", region="汉滨区")
    normal = last_tip_id(svc)
    file_via_chat(client, "c-2", region="汉滨区", amount="两百万")
    urgent = last_tip_id(svc)
    add_staff(svc, "city-handler", "ankang")
    sign_in(client, "city-handler")
    unlock(client)
    queue = client.get("/console/").text
    assert queue.index(f'data-tip="{urgent}"') < queue.index(f'data-tip="{normal}"')  # urgent first
    page = client.get(f"/console/tips/{normal}")
    assert page.status_code == 200 and COMPANY not in page.text and "只加密给汉滨区" in page.text
    r = client.post(f"/console/tips/{normal}/status", data={"csrf": csrf_of(client), "to": "checking", "reason": "x"})
    assert r.status_code == 403
    assert COMPANY in client.get(f"/console/tips/{urgent}").text


# --- CSRF, headers, cookies ---------------------------------------------------------------------------
def test_a_post_without_the_csrf_token_is_refused(console):
    client, svc = console
    file_via_chat(client, "csrf-1")
    tip_id = last_tip_id(svc)
    add_staff(svc, "sq-csrf", "shiquan")
    r = client.post("/console/login", data={"username": "sq-csrf", "password": PASSWORD})
    assert r.status_code == 403 and "fg_console=" not in r.headers.get("set-cookie", "")
    sign_in(client, "sq-csrf")
    for data in ({}, {"csrf": ""}, {"csrf": "0" * 64}):
        r = client.post(f"/console/tips/{tip_id}/status", data={"to": "checking", "reason": "核查", **data})
        assert r.status_code == 403 and "安全令牌" in r.text
        assert client.post("/console/key", data={"passphrase": DEV_PASSPHRASE, **data}).status_code == 403
    r = client.post(f"/console/tips/{tip_id}/status", headers={"Origin": "https://evil.example"},
                    data={"csrf": csrf_of(client), "to": "checking", "reason": "核查"})
    assert r.status_code == 403
    assert client.post("/console/logout", data={}).status_code == 403
    with svc.uow() as uow:
        assert uow.session.get(Tip, tip_id).status == "new"
    assert client.get("/console/key").text.count("密钥未解锁") >= 1  # the key was never unlocked


def test_security_headers_and_cookie_flags(console):
    client, svc = console
    add_staff(svc, "sq-head", "shiquan")
    page = client.get("/console/login")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"
    assert "<script>" not in page.text and " style=" not in page.text  # no inline script or style
    r = login(client, "sq-head")
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("fg_console="))
    assert all(flag in cookie for flag in ("HttpOnly", "Secure", "SameSite=strict", "Path=/console"))
    for name in ("console.css", "console.js", "favicon.svg"):
        assert client.get(f"/console/static/{name}").status_code == 200
    assert client.get("/console/static/..%2Fcontext.py").status_code == 404


# --- confidentiality -------------------------------------------------------------------------------
def test_tip_text_with_script_renders_inert(console):
    client, svc = console
    evil = '<script>window.pwned=1</script><img src=x onerror="alert(1)">'
    file_via_chat(client, "xss-1", subject=f"{evil}合作社", description=f"{evil} 说保本保息，每月返息")
    tip_id = last_tip_id(svc)
    add_staff(svc, "sq-xss", "shiquan")
    sign_in(client, "sq-xss")
    unlock(client)
    html = client.get(f"/console/tips/{tip_id}").text
    assert "<script>window.pwned" not in html and "<img src=x" not in html
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in html


def test_a_locked_key_shows_no_content(console):
    client, svc = console
    file_via_chat(client, "locked-1", contact=f"王德福 {PHONE}")
    tip_id = last_tip_id(svc)
    add_staff(svc, "sq-boss", "shiquan", role="supervisor")
    secret = add_staff(svc, "sq-lock", "shiquan", totp=True)
    sign_in(client, "sq-lock", secret)
    for path in ("/console/", f"/console/tips/{tip_id}"):
        html = client.get(path).text
        assert COMPANY not in html and DETAIL not in html and PHONE not in html
    assert "解锁本单位密钥" in client.get(f"/console/tips/{tip_id}").text
    assert client.get(f"/console/tips/{tip_id}/evidence/1").status_code == 403
    token = csrf_of(client)
    assert client.post(f"/console/tips/{tip_id}/reveal", data={"csrf": token, "reason": "奖励"}).status_code == 403
    assert unlock(client, "a wrong passphrase").status_code == 401
    assert COMPANY not in client.get(f"/console/tips/{tip_id}").text
    assert audit(svc, "open") == [] and len(audit(svc, "key_unlock_failed")) == 1


def test_every_opening_and_reveal_leaves_an_audit_row(console):
    client, svc = console
    svc.settings.reveal_roles = {"*": "supervisor", "shiquan": "handler"}  # this office lets handlers reveal
    file_via_chat(client, "audit-1", contact=f"王德福 {PHONE}")
    tip_id = last_tip_id(svc)
    boss = add_staff(svc, "sq-sup", "shiquan", role="supervisor")
    add_staff(svc, "sq-aud", "shiquan")
    sign_in(client, "sq-aud")
    unlock(client)
    for _ in range(2):
        page = client.get(f"/console/tips/{tip_id}").text
        assert COMPANY in page and PHONE not in page
    r = client.post(f"/console/tips/{tip_id}/reveal", data={"csrf": csrf_of(client), "reason": "  "})
    assert PHONE not in r.text and audit(svc, "reveal_identity") == []
    r = client.post(f"/console/tips/{tip_id}/reveal", data={"csrf": csrf_of(client), "reason": "核实后发放举报奖励"})
    assert r.status_code == 200 and PHONE not in r.text and "确认查看" in r.text  # the second confirmation
    r = client.post(f"/console/tips/{tip_id}/reveal",
                    data={"csrf": csrf_of(client), "reason": "核实后发放举报奖励", "confirm": "yes"})
    assert r.status_code == 200 and PHONE in r.text
    assert PHONE not in client.get(f"/console/tips/{tip_id}").text  # shown once, not kept
    opens = [row for row in audit(svc, "open", tip_id) if row[2] != "队列显示涉及主体"]  # (the queue: once)
    # two views, the page shown after the refused blank-reason reveal, the reveal, the last view
    assert len(opens) == 5 and {actor for actor, _, _ in opens} == {"sq-aud"}
    reveal = audit(svc, "reveal_identity", tip_id)
    assert reveal == [("sq-aud", tip_id, "核实后发放举报奖励")]
    assert client.get("/console/audit").status_code == 403  # handlers do not read the audit log
    sign_in(client, "sq-sup", boss)
    log = client.get("/console/audit", params={"action": "reveal_identity"}).text
    assert "核实后发放举报奖励" in log and "sq-aud" in log and f"#{tip_id}" in log
    assert "核实后发放举报奖励" in client.get(f"/console/tips/{tip_id}").text  # also on the tip, for supervisors


# --- sign-in, sessions, TOTP ------------------------------------------------------------------------
def test_sign_in_is_throttled_after_repeated_failures(console):
    client, svc = console
    add_staff(svc, "sq-throttle", "shiquan")
    for _ in range(5):
        r = login(client, "sq-throttle", password="wrong password 123")
        assert r.status_code == 401 and "fg_console=" not in r.headers.get("set-cookie", "")
    r = login(client, "sq-throttle")  # the right password, too late
    assert r.status_code == 429 and "太多" in r.text
    assert len(audit(svc, "login_failed")) == 5
    with svc.uow() as uow:  # the window passes
        from bot.store.models import RateEvent

        uow.session.execute(update(RateEvent).values(created_at=utcnow() - timedelta(minutes=16)))
        uow.commit()
    assert login(client, "sq-throttle").status_code == 303


def test_a_session_expires_after_30_idle_minutes_and_its_key_goes_with_it(console):
    client, svc = console
    file_via_chat(client, "idle-1")
    tip_id = last_tip_id(svc)
    add_staff(svc, "sq-idle", "shiquan")
    sign_in(client, "sq-idle")
    unlock(client)
    keyring = client.app.state.console.keyring
    assert len(keyring) == 1 and COMPANY in client.get(f"/console/tips/{tip_id}").text
    with svc.uow() as uow:
        uow.session.execute(update(StaffSession).values(last_seen_at=utcnow() - timedelta(minutes=31)))
        uow.commit()
    r = client.get(f"/console/tips/{tip_id}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/console/login")
    assert len(keyring) == 0
    with svc.uow() as uow:
        assert uow.session.scalars(select(StaffSession)).one().ended_at is not None


def test_logout_ends_the_session_and_forgets_the_key(console):
    client, svc = console
    add_staff(svc, "sq-out", "shiquan")
    sign_in(client, "sq-out")
    unlock(client)
    keyring = client.app.state.console.keyring
    assert len(keyring) == 1
    old = dict(client.cookies)
    assert client.post("/console/logout", data={"csrf": csrf_of(client)}, follow_redirects=False).status_code == 303
    assert len(keyring) == 0
    client.cookies.update(old)  # a stolen cookie is dead after logout
    assert client.get("/console/", follow_redirects=False).status_code == 303


def test_the_keyring_drops_idle_keys_without_any_request():
    from bot.staff.sessions import KeyRing

    now = [1000.0]
    ring = KeyRing(idle=timedelta(minutes=30), clock=lambda: now[0], sweep_every=None)
    ring.put("s1", "shiquan", object())  # type: ignore[arg-type]
    assert ring.get("s1", "hanbin") is None and ring.get("s1", "shiquan") is not None
    now[0] += 29 * 60
    assert ring.sweep() == 0
    now[0] += 31 * 60
    assert ring.sweep() == 1 and len(ring) == 0


def test_supervisors_need_totp(console):
    client, svc = console
    secret = add_staff(svc, "sq-totp", "shiquan", role="supervisor")
    assert secret  # always issued for supervisors
    assert login(client, "sq-totp").status_code == 401                       # no code
    assert login(client, "sq-totp", code="000000").status_code == 401        # a wrong code
    code = totp(secret)
    assert login(client, "sq-totp", code=code).status_code == 303
    assert login(client, "sq-totp", code=code).status_code == 401            # the same code again: a replay
    assert login(client, "sq-totp", code=totp(secret, ahead=1)).status_code == 303
    with svc.uow() as uow:  # a supervisor whose TOTP was removed cannot sign in at all
        uow.session.execute(update(StaffAccount).where(StaffAccount.username == "sq-totp").values(totp_sealed=None))
        uow.commit()
    assert login(client, "sq-totp", code="").status_code == 401
    add_staff(svc, "sq-plain", "shiquan")  # a handler without TOTP signs in with the password alone
    assert login(client, "sq-plain").status_code == 303


def test_chart_labels_are_escaped():
    from webhook.console.charts import hbars, stacked_bars

    bars = stacked_bars(["<b>w1</b>"], {"<script>alert(1)</script>": [3]}, "t<i>")
    assert "<script>" not in bars and "&lt;script&gt;alert(1)&lt;/script&gt;" in bars and "<b>" not in bars
    assert "<img" not in hbars([("<img src=x>", 2)], "t") and "&lt;img src=x&gt;" in hbars([("<img src=x>", 2)], "t")
