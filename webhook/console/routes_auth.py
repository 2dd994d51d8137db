"""Signing in and out, unlocking the office key for this session, the console's static files."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from bot.staff.auth import THROTTLED
from bot.store.models import AuditEntry, Office
from bot.store.ratelimit import RateLimiter
from bot.tips.keys import NoOfficeKey, unlock
from bot.tips.sealing import SealingError, UnlockedOfficeKey
from webhook.console.context import (
    COOKIE,
    HERE,
    PATH,
    PRE_COOKIE,
    Console,
    ConsoleError,
    ConsoleRoute,
    Ctx,
    login_csrf,
    render_public,
    safe_next,
    services_of,
    state,
)

router = APIRouter(prefix=PATH, route_class=ConsoleRoute, include_in_schema=False)
STATIC = {"console.css": "text/css", "console.js": "text/javascript", "favicon.svg": "image/svg+xml"}
UNLOCK_LIMIT, UNLOCK_WINDOW = 5, timedelta(minutes=15)


def _cookie(response: Response, name: str, value: str) -> None:
    response.set_cookie(name, value, httponly=True, secure=True, samesite="strict", path=PATH)


def _login_page(request: Request, status: int = 200, error: str | None = None, next_url: str = "") -> HTMLResponse:
    pre = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(24)
    response = render_public(request, "login.html", status, error=error, next_url=safe_next(next_url),
                             csrf=login_csrf(state(request), pre),
                             expired=request.query_params.get("expired") == "1")
    _cookie(response, PRE_COOKIE, pre)
    return response


@router.get("/login")
def login_form(request: Request, next: str = "") -> HTMLResponse:  # noqa: A002
    """The sign-in page."""
    return _login_page(request, next_url=next)


@router.post("/login")
def login(request: Request, username: Annotated[str, Form(max_length=64)] = "",
          password: Annotated[str, Form(max_length=256)] = "", code: Annotated[str, Form(max_length=16)] = "",
          next: Annotated[str, Form(max_length=512)] = "") -> Response:  # noqa: A002
    """Sign in with password and, where set or required, a TOTP code."""
    st, services = state(request), services_of(request)
    address = request.client.host if request.client else None
    with services.uow() as uow:
        result = st.kit.auth.login(uow.session, username, password, code, address)
        token = st.kit.sessions.create(uow.session, result.account) if result.account else None
        uow.commit()
    if token is None:
        return _login_page(request, 429 if result.error == THROTTLED else 401, error=result.error, next_url=next)
    response = RedirectResponse(safe_next(next), 303)
    _cookie(response, COOKIE, token)
    response.delete_cookie(PRE_COOKIE, path=PATH, secure=True, httponly=True, samesite="strict")
    return response


@router.post("/logout")
def logout(ctx: Ctx = Console) -> Response:
    """Sign out: the session ends and its unlocked key is dropped."""
    ctx.st.keyring.drop(ctx.current.session_id)
    ctx.st.flashes.pop(ctx.current.session_id, None)
    ctx.st.kit.sessions.end(ctx.session, ctx.current.session_id)
    ctx.session.add(AuditEntry(actor=ctx.actor, action="logout"))
    ctx.session.commit()
    response = RedirectResponse(f"{PATH}/login", 303)
    response.delete_cookie(COOKIE, path=PATH, secure=True, httponly=True, samesite="strict")
    return response


def _key_page(ctx: Ctx, status: int = 200, error: str | None = None, next_url: str = "") -> HTMLResponse:
    office = ctx.session.get(Office, ctx.staff.office_code)
    return ctx.render("key.html", status, error=error, office_row=office, next_url=safe_next(next_url),
                      office=ctx.st.kit.labels.offices.get(ctx.staff.office_code))


@router.get("/key")
def key_form(ctx: Ctx = Console, next: str = "") -> HTMLResponse:  # noqa: A002
    """Unlock the office key for this session."""
    return _key_page(ctx, next_url=next)


def _try_unlock(ctx: Ctx, passphrase: str) -> UnlockedOfficeKey | tuple[int, str]:
    """The office key, or (status, message). The attempt is reserved and committed before Argon2 runs."""
    limiter = RateLimiter(ctx.session)
    bucket_key = ctx.services.hasher.digest("staff-unlock", str(ctx.staff.id))
    if not limiter.reserve("staff_unlock", bucket_key, UNLOCK_LIMIT, UNLOCK_WINDOW):
        ctx.session.commit()
        return 429, "解锁失败次数太多，请15分钟后再试。"
    ctx.session.commit()  # the attempt counts before the slow part; the gate is free again
    try:
        key = unlock(ctx.session, ctx.staff.office_code, passphrase)
    except NoOfficeKey:
        limiter.release("staff_unlock", bucket_key)
        ctx.session.commit()
        return 409, "本单位还没有密钥，请管理员运行 fundguard office keygen。"
    except SealingError:
        ctx.session.add(AuditEntry(actor=ctx.actor, action="key_unlock_failed"))
        ctx.session.commit()
        return 401, "口令不对，密钥没有解锁。"
    limiter.release("staff_unlock", bucket_key)
    return key


@router.post("/key")
def key_unlock(ctx: Ctx = Console, passphrase: Annotated[str, Form(max_length=1024)] = "",
               next: Annotated[str, Form(max_length=512)] = "") -> Response:  # noqa: A002
    """Unlock the office's private key with its passphrase; it stays in memory for this session only."""
    sid = ctx.current.session_id
    if not ctx.st.keyring.begin_unlock(sid):
        return _key_page(ctx, 429, "上一次解锁还在进行，请稍候再试。", next)
    try:
        outcome = _try_unlock(ctx, passphrase)
    finally:
        ctx.st.keyring.end_unlock(sid)
    if isinstance(outcome, tuple):
        return _key_page(ctx, outcome[0], outcome[1], next)
    key = outcome
    ctx.st.keyring.put(ctx.current.session_id, ctx.staff.office_code, key)
    ctx.session.add(AuditEntry(actor=ctx.actor, action="key_unlock"))
    ctx.session.commit()
    ctx.flash("密钥已解锁：仅在本次登录期间有效，退出或30分钟无操作后自动失效。")
    return RedirectResponse(safe_next(next), 303)


@router.post("/key/lock")
def key_lock(ctx: Ctx = Console) -> Response:
    """Forget the unlocked key now."""
    ctx.st.keyring.drop(ctx.current.session_id)
    ctx.session.add(AuditEntry(actor=ctx.actor, action="key_lock"))
    ctx.session.commit()
    ctx.flash("密钥已锁定。")
    return RedirectResponse(f"{PATH}/", 303)


@router.get("/static/{name}")
def static(name: str, v: str = Query("", max_length=32)) -> Response:
    """The console's own CSS, script and icon (served locally; no outside resource)."""
    if name not in STATIC:
        raise ConsoleError(404, "没有这个文件。")
    return FileResponse(HERE / "static" / name, media_type=STATIC[name],
                        headers={"Cache-Control": "no-cache"})
