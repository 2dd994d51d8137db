"""What every console request shares: the per-app state, the signed-in person, rendering, errors.

`ConsoleRoute` wraps every console endpoint: it checks the CSRF token of every POST before the
endpoint runs, turns console errors (and the use cases' refusals) into HTML pages (or a redirect to
the sign-in page), and adds the console's security headers. The use cases are in bot/staff/*desk.py:
nothing here or in the routes reads or writes the database itself.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape

from bot.bootstrap import Services
from bot.staff import roles
from bot.staff.desk import Desk, DeskError, open_desk
from bot.staff.kit import StaffKit
from bot.staff.labels import fmt, zone_label
from bot.staff.sessions import Current, KeyRing
from bot.store.console_models import StaffAccount
from bot.tips.sealing import UnlockedOfficeKey

HERE = Path(__file__).resolve().parent
COOKIE = "fg_console"
PRE_COOKIE = "fg_console_pre"
PATH = "/console"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")


class ConsoleError(Exception):
    """An error shown to staff as a page with this status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class NeedLogin(Exception):
    """No live session: go to the sign-in page."""


BAD_REQUEST = "没有这个页面，或提交的内容不对（比如太长）。"
MAX_FLASHES = 1000
REFUSALS = {"missing": 404, "forbidden": 403, "invalid": 400}  # DeskError kinds as HTTP statuses


@dataclass
class ConsoleState:
    kit: StaffKit
    keyring: KeyRing
    env: Environment
    flashes: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    # per session: tips whose subject the queue has shown (audited once per session, not per page view)
    queue_seen: dict[str, set[int]] = field(default_factory=dict)


def console_state(services: Services) -> ConsoleState:
    """The console's state for one app, made at start-up."""
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.globals.update(fmt=fmt, roles=roles, zone_label=zone_label)
    return ConsoleState(services.staff, KeyRing(), env)


def state(request: Request) -> ConsoleState:
    return request.app.state.console  # type: ignore[no-any-return]


@dataclass
class Ctx:
    """The signed-in person of one request, and their desk (the unit of work of the request)."""

    request: Request
    services: Services
    st: ConsoleState
    desk: Desk

    @property
    def current(self) -> Current:
        return self.desk.current

    @property
    def staff(self) -> StaffAccount:
        return self.desk.staff

    def key(self) -> UnlockedOfficeKey | None:
        return self.st.keyring.get(self.current.session_id, self.staff.office_code)

    def flash(self, message: str, level: str = "ok") -> None:
        if len(self.st.flashes) > MAX_FLASHES:  # messages never shown (sessions gone) do not pile up
            self.st.flashes.clear()
        if len(self.st.queue_seen) > MAX_FLASHES:  # sessions gone: their next showing is audited again
            self.st.queue_seen.clear()
        self.st.flashes.setdefault(self.current.session_id, []).append((level, message))

    def queue_seen(self) -> set[int]:
        """The tips whose subject the queue has shown in this session (audited once per session)."""
        return self.st.queue_seen.setdefault(self.current.session_id, set())

    def render(self, name: str, status: int = 200, **values: Any) -> HTMLResponse:
        flashes = self.st.flashes.pop(self.current.session_id, [])
        names = self.desk.people()

        def person(username: str | None) -> str:
            """张三（zhang）; 系统 for the system; a CLI user as 命令行：name."""
            if not username or username == "system":
                return "系统"
            if username.startswith("cli:"):
                return "命令行：" + username[4:]
            return f"{names[username]}（{username}）" if username in names else username

        html = self.st.env.get_template(name).render(
            ctx=self, staff=self.staff, csrf=self.current.csrf, labels=self.st.kit.labels, flashes=flashes,
            unlocked=self.key() is not None, city=self.desk.city, person=person, **values)
        return HTMLResponse(html, status)


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def console(request: Request) -> Iterator[Ctx]:
    """The live session of this request (touched), or a redirect to sign in."""
    st = state(request)
    services = services_of(request)
    with services.uow() as uow:
        desk = open_desk(uow, st.kit, services.settings, st.keyring, request.cookies.get(COOKIE))
        if desk is None:
            raise NeedLogin()
        yield Ctx(request, services, st, desk)


Console = Depends(console)


def render_public(request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
    """A page for someone not signed in (sign-in, errors)."""
    html = state(request).env.get_template(name).render(staff=None, flashes=[], unlocked=False, **values)
    return HTMLResponse(html, status)


def error_page(request: Request, status: int, headers: dict[str, str] | None = None) -> Response:
    """An address under /console that has no page (or not for this method): a page saying so, in Chinese."""
    message = "没有这个页面。请从线索队列进入。" if status == 404 else \
        "这个页面不能这样打开。" if status == 405 else BAD_REQUEST
    response = render_public(request, "error.html", status, message=message)
    response.headers.update(headers or {})
    return _secure(response)


def safe_next(target: str | None) -> str:
    """Only a console path: never an open redirect."""
    if target and target.startswith(PATH + "/") and not target.startswith("//") and "\\" not in target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return PATH + "/"


async def _check_post(request: Request) -> None:
    """Refuse a POST whose CSRF token does not match this browser's session (or pre-session)."""
    origin = request.headers.get("origin")
    if origin and origin != "null":
        host = request.headers.get("host", "")
        try:
            netloc = urlsplit(origin).netloc
        except ValueError:  # e.g. "http://[": not a URL, so not this host
            netloc = None
        if netloc != host:
            raise ConsoleError(403, "请求来源不对，已拒绝。")
    form = await request.form()
    sent = str(form.get("csrf") or "")
    st = state(request)
    if request.url.path == PATH + "/login":
        token, purpose = request.cookies.get(PRE_COOKIE), "login"
    else:
        token, purpose = request.cookies.get(COOKIE), "session"
    if not token or not sent:
        raise ConsoleError(403, "表单已失效（缺少安全令牌），请刷新页面后重试。")
    expected = st.kit.sessions.csrf_for(token) if purpose == "session" else login_csrf(st, token)
    if not hmac.compare_digest(sent.encode(), expected.encode()):  # bytes: str refuses non-ASCII
        raise ConsoleError(403, "表单已失效（安全令牌不对），请刷新页面后重试。")


def login_csrf(st: ConsoleState, pre_token: str) -> str:
    return st.kit.sessions.csrf_for("login:" + pre_token)


def _secure(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = response.headers.get("Content-Security-Policy", CSP)
    response.headers["X-Frame-Options"] = "DENY"
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


class ConsoleRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                if request.method == "POST":
                    await _check_post(request)
                response = await original(request)
            except NeedLogin:
                target = quote(request.url.path if request.method == "GET" else PATH + "/", safe="/")
                response = RedirectResponse(f"{PATH}/login?next={target}", 303)
            except ConsoleError as exc:
                response = render_public(request, "error.html", exc.status, message=exc.message)
            except DeskError as exc:
                response = render_public(request, "error.html", REFUSALS.get(exc.kind, 400), message=exc.message)
            except RequestValidationError:
                status = 404 if request.method == "GET" else 400
                response = render_public(request, "error.html", status, message=BAD_REQUEST)
            return _secure(response)

        return handler
