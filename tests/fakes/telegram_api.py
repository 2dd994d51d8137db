"""A fake Telegram Bot API on localhost: real HTTP, the real wire format, every call recorded.

In a test (a thread):   with FakeTelegram(rate=30) as tg: Bot(token, base_url=tg.base_url, ...)
As a process:           python -m tests.fakes.telegram_api --port 8081 --rate 30 [--no-record]
Control over HTTP (for a benchmark in another process): GET /_fake/stats, GET /_fake/calls?method=&limit=,
POST /_fake/reset, /_fake/block {"chat_ids": [...]}, /_fake/fail {"method", "code", "retry_after", "times",
"chat_id"}, /_fake/updates {"updates": [...]} (served by getUpdates), /_fake/files (raw body → file_id).

Sends (sendMessage, sendPhoto, ...) count against an optional global rate (`rate` per second, a token
bucket holding `rate` tokens): above it the fake answers 429 with `parameters.retry_after`, as Telegram does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import socket
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

SENDS = frozenset({"sendmessage", "sendphoto", "senddocument", "copymessage", "forwardmessage"})
JSON_FIELDS = frozenset({"reply_markup", "commands", "allowed_updates", "reply_parameters", "scope",
                         "link_preview_options", "entities", "caption_entities"})
SLACK = 0.25  # seconds of timing skew forgiven (the client's limiter starts before its first send arrives)
BOT = {"id": 7000000001, "is_bot": True, "first_name": "防非助手", "username": "fundguard_test_bot",
       "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}


@dataclass
class Call:
    method: str          # as Telegram spells it, e.g. "sendMessage"
    params: dict[str, Any]
    status: int
    at: float


@dataclass
class Failure:
    method: str
    code: int
    retry_after: int | None = None
    times: int = 1
    chat_id: str | None = None
    description: str | None = None


@dataclass
class FakeState:
    token: str | None = None
    rate: float | None = None
    record: bool = True
    max_poll_wait: float = 1.0
    latency: float = 0.0
    calls: list[Call] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    blocked: set[str] = field(default_factory=set)
    failures: list[Failure] = field(default_factory=list)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)   # file_id → (path, bytes)
    updates: list[dict[str, Any]] = field(default_factory=list)
    webhook: dict[str, Any] = field(default_factory=dict)
    commands: list[dict[str, Any]] = field(default_factory=list)
    tokens: float = 0.0
    bucket_at: float | None = None
    first_send: float | None = None
    last_send: float | None = None
    next_update_id: int = 100
    next_message_id: int = 1
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()
            self.counts.clear()
            self.blocked.clear()
            self.failures.clear()
            self.updates.clear()
            self.bucket_at = None
            self.first_send = self.last_send = None

    def stats(self) -> dict[str, Any]:
        with self.lock:
            sent = self.counts["_sent"]
            span = (self.last_send - self.first_send) if self.first_send and self.last_send else 0.0
            return {"calls": {k: v for k, v in self.counts.items() if not k.startswith("_")},
                    "sent": sent, "throttled": self.counts["_429"], "forbidden": self.counts["_403"],
                    "span_seconds": round(span, 3), "rate": round(sent / span, 2) if span > 0 else None}


def _error(code: int, description: str, retry_after: int | None = None) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return code, body


DESCRIPTIONS = {400: "Bad Request: chat not found", 403: "Forbidden: bot was blocked by the user",
                404: "Not Found", 409: "Conflict: terminated by other getUpdates request"}


class Api:
    """The Bot API's methods over one FakeState."""

    def __init__(self, state: FakeState) -> None:
        self.s = state

    def _failure(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
        chat = str(params.get("chat_id", ""))
        if method in SENDS and chat in self.s.blocked:
            return _error(403, DESCRIPTIONS[403])
        for f in self.s.failures:
            if f.method.lower() == method and (f.chat_id is None or f.chat_id == chat):
                f.times -= 1
                if f.times <= 0:
                    self.s.failures.remove(f)
                if f.code == 429:
                    n = f.retry_after or 1
                    return _error(429, f"Too Many Requests: retry after {n}", n)
                return _error(f.code, f.description or DESCRIPTIONS.get(f.code, "Bad Request"))
        if method in SENDS and self.s.rate:
            return self._throttle(self.s.rate)
        return None

    def _throttle(self, rate: float) -> tuple[int, dict[str, Any]] | None:
        """A token bucket: `rate` sends a second, bursts up to `rate`; SLACK seconds of skew are forgiven."""
        now = time.monotonic()
        if self.s.bucket_at is None:
            self.s.tokens, self.s.bucket_at = rate, now
        self.s.tokens = min(rate, self.s.tokens + (now - self.s.bucket_at) * rate)
        self.s.bucket_at = now
        if self.s.tokens < 1.0 - max(1.0, SLACK * rate):
            n = max(1, math.ceil((1.0 - self.s.tokens) / rate))
            return _error(429, f"Too Many Requests: retry after {n}", n)
        self.s.tokens -= 1.0
        return None

    def call(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Answer one call (under the state's lock)."""
        key = method.lower()
        failure = self._failure(key, params)
        if failure is not None:
            return failure
        handler = getattr(self, "m_" + key, None)
        if handler is None:
            return _error(404, "Not Found")
        result = handler(params)
        if isinstance(result, tuple):
            return result
        if key in SENDS:
            now = time.time()
            self.s.counts["_sent"] += 1
            self.s.first_send = self.s.first_send or now
            self.s.last_send = now
        return 200, {"ok": True, "result": result}

    def _message(self, params: dict[str, Any], **extra: Any) -> dict[str, Any]:
        chat = str(params.get("chat_id", "0"))
        cid = int(chat) if chat.lstrip("-").isdigit() else 0
        self.s.next_message_id += 1
        msg = {"message_id": self.s.next_message_id, "date": int(time.time()), "from": BOT,
               "chat": {"id": cid, "type": "private" if cid > 0 else "supergroup", "title": "group"}, **extra}
        if isinstance(params.get("reply_markup"), dict):
            msg["reply_markup"] = params["reply_markup"]
        return msg

    def m_getme(self, p: dict[str, Any]) -> Any:
        return BOT

    def m_sendmessage(self, p: dict[str, Any]) -> Any:
        text = str(p.get("text", ""))
        if "chat_id" not in p or not text.strip():
            return _error(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            return _error(400, "Bad Request: message is too long")
        return self._message(p, text=text)

    def m_sendphoto(self, p: dict[str, Any]) -> Any:
        if "chat_id" not in p or "photo" not in p:
            return _error(400, "Bad Request: there is no photo in the request")
        size = {"file_id": uuid.uuid4().hex, "file_unique_id": uuid.uuid4().hex[:12], "width": 1, "height": 1}
        return self._message(p, photo=[size], caption=p.get("caption"))

    def m_getfile(self, p: dict[str, Any]) -> Any:
        fid = str(p.get("file_id", ""))
        if fid not in self.s.files:
            return _error(400, "Bad Request: invalid file_id")
        path, data = self.s.files[fid]
        return {"file_id": fid, "file_unique_id": fid[:12], "file_size": len(data), "file_path": path}

    def m_setwebhook(self, p: dict[str, Any]) -> Any:
        self.s.webhook = {k: p.get(k) for k in ("url", "secret_token", "allowed_updates", "drop_pending_updates")}
        return True

    def m_deletewebhook(self, p: dict[str, Any]) -> Any:
        self.s.webhook = {}
        if str(p.get("drop_pending_updates", "")).lower() == "true":
            self.s.updates.clear()
        return True

    def m_getwebhookinfo(self, p: dict[str, Any]) -> Any:
        return {"url": self.s.webhook.get("url") or "", "has_custom_certificate": False,
                "pending_update_count": len(self.s.updates)}

    def m_setmycommands(self, p: dict[str, Any]) -> Any:
        self.s.commands = list(p.get("commands") or [])
        return True

    def m_getmycommands(self, p: dict[str, Any]) -> Any:
        return self.s.commands

    def m_answercallbackquery(self, p: dict[str, Any]) -> Any:
        return True if p.get("callback_query_id") else _error(400, "Bad Request: query is too old")

    def m_sendchataction(self, p: dict[str, Any]) -> Any:
        return True

    def pending(self, offset: int, limit: int) -> tuple[int, dict[str, Any]] | None:
        """getUpdates: confirm updates below `offset`; None while there is nothing to return."""
        if self.s.webhook.get("url"):
            return _error(409, "Conflict: can't use getUpdates method while webhook is active")
        self.s.updates = [u for u in self.s.updates if u["update_id"] >= offset]
        return (200, {"ok": True, "result": self.s.updates[:limit]}) if self.s.updates else None


async def _params(request: Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query_params)
    ctype = request.headers.get("content-type", "")
    if "application/json" in ctype:
        body = await request.json()
        params.update(body if isinstance(body, dict) else {})
    elif request.method == "POST":
        form = await request.form(max_files=20, max_fields=100)
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                data = await value.read()
                params[key] = {"upload": value.filename, "size": len(data)}
            elif key in JSON_FIELDS:
                try:
                    params[key] = json.loads(value)
                except ValueError:
                    params[key] = value
            else:
                params[key] = value
    return params


def make_app(state: FakeState) -> Starlette:
    api = Api(state)

    def record(method: str, params: dict[str, Any], status: int) -> None:
        state.counts[method] += 1
        if status in (403, 429):
            state.counts[f"_{status}"] += 1
        if state.record:
            state.calls.append(Call(method, params, status, time.time()))

    async def method(request: Request) -> Response:
        name, token = request.path_params["method"], request.path_params["token"]
        params = await _params(request)
        if state.token is not None and token != state.token:
            return JSONResponse({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
        if state.latency:
            await asyncio.sleep(state.latency)
        if name.lower() == "getupdates":
            return await _get_updates(name, params)
        with state.lock:
            status, body = api.call(name, params)
            record(name, params, status)
        return JSONResponse(body, status)

    async def _get_updates(name: str, params: dict[str, Any]) -> Response:
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), state.max_poll_wait)
        while True:
            with state.lock:
                answer = api.pending(int(params.get("offset") or 0), int(params.get("limit") or 100))
                if answer is not None or time.monotonic() >= deadline:
                    status, body = answer or (200, {"ok": True, "result": []})
                    record(name, params, status)
                    return JSONResponse(body, status)
            await asyncio.sleep(0.02)

    async def download(request: Request) -> Response:
        path = request.path_params["path"]
        with state.lock:
            state.counts["_download"] += 1
            data = next((d for p, d in state.files.values() if p == path), None)
        return Response(data, media_type="application/octet-stream") if data is not None else Response(
            b"Not Found", 404)

    async def control(request: Request) -> Response:
        action = request.path_params["action"]
        body = await request.body()
        data = json.loads(body) if body and action != "files" else {}
        with state.lock:
            if action == "calls":
                wanted = request.query_params.get("method")
                rows = [c.__dict__ for c in state.calls if wanted in (None, c.method)]
                return JSONResponse(rows[-int(request.query_params.get("limit", 1000)):])
            if action == "block":
                state.blocked.update(str(c) for c in data.get("chat_ids", []))
            elif action == "fail":
                chat = data.get("chat_id")
                state.failures.append(Failure(**{**data, "chat_id": None if chat is None else str(chat)}))
            elif action == "updates":
                for update in data.get("updates", []):
                    add_update(state, update)
            elif action == "files":
                return JSONResponse({"file_id": add_file(state, body)})
        if action == "reset":
            state.reset()
        return JSONResponse(state.stats())

    return Starlette(routes=[
        Route("/file/bot{token}/{path:path}", download, methods=["GET"]),
        Route("/bot{token}/{method}", method, methods=["GET", "POST"]),
        Route("/_fake/{action}", control, methods=["GET", "POST"]),
    ])


def add_file(state: FakeState, data: bytes, folder: str = "photos") -> str:
    """Register a file the bot may fetch with getFile (call under the lock or before serving)."""
    fid = "AgAC" + uuid.uuid4().hex
    state.files[fid] = (f"{folder}/file_{uuid.uuid4().hex[:10]}.jpg", bytes(data))
    return fid


def add_update(state: FakeState, update: dict[str, Any]) -> dict[str, Any]:
    if "update_id" not in update:
        update = {"update_id": state.next_update_id, **update}
    state.next_update_id = max(state.next_update_id, update["update_id"]) + 1
    state.updates.append(update)
    return update


class FakeTelegram:
    """The fake in a background thread: `with FakeTelegram() as tg:` (or start()/stop())."""

    def __init__(self, *, token: str | None = None, rate: float | None = None, record: bool = True,
                 host: str = "127.0.0.1", port: int = 0, max_poll_wait: float = 1.0, latency: float = 0.0) -> None:
        self.state = FakeState(token=token, rate=rate, record=record, max_poll_wait=max_poll_wait, latency=latency)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self.host, self.port = host, self._sock.getsockname()[1]
        config = uvicorn.Config(make_app(self.state), log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/bot"

    @property
    def file_url(self) -> str:
        return f"http://{self.host}:{self.port}/file/bot"

    bot = BOT

    def start(self) -> FakeTelegram:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the fake Telegram server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> FakeTelegram:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- scripting and inspecting ---------------------------------------------------------------------
    def calls(self, method: str | None = None) -> list[Call]:
        with self.state.lock:
            return [c for c in self.state.calls if method is None or c.method == method]

    def texts(self, chat_id: int | str | None = None) -> list[str]:
        """The texts of successful sendMessage calls (to one chat)."""
        return [str(c.params.get("text")) for c in self.calls("sendMessage")
                if c.status == 200 and (chat_id is None or str(c.params.get("chat_id")) == str(chat_id))]

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        deadline = time.monotonic() + timeout
        while len(found := self.calls(method)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{method}: {len(found)} calls after {timeout}s, wanted {count}")
            time.sleep(0.02)
        return found

    def add_file(self, data: bytes, folder: str = "photos") -> str:
        with self.state.lock:
            return add_file(self.state, data, folder)

    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        with self.state.lock:
            return add_update(self.state, update)

    def block(self, chat_id: int | str) -> None:
        with self.state.lock:
            self.state.blocked.add(str(chat_id))

    def fail(self, method: str, code: int, *, retry_after: int | None = None, times: int = 1,
             chat_id: int | str | None = None, description: str | None = None) -> None:
        """The next `times` calls of `method` (to `chat_id`) answer `code` (429 with retry_after)."""
        with self.state.lock:
            self.state.failures.append(Failure(method, code, retry_after, times,
                                               None if chat_id is None else str(chat_id), description))

    def reset(self) -> None:
        self.state.reset()

    def stats(self) -> dict[str, Any]:
        return self.state.stats()


# -- updates as Telegram posts them (to a webhook, or returns them from getUpdates) ----------------------
USER = {"id": 424242001, "is_bot": False, "first_name": "李", "language_code": "zh-hans"}
GROUP = {"id": -1001234567890, "type": "supergroup", "title": "幸福小区业主群"}


class Updates:
    """Builds update JSON with fresh update and message ids."""

    def __init__(self, first_update_id: int = 500000) -> None:
        self.update_id, self.message_id = first_update_id, 1000

    def _next(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        self.update_id += 1
        return {"update_id": self.update_id, kind: body}

    def _base(self, user: dict[str, Any], chat: dict[str, Any] | None) -> dict[str, Any]:
        self.message_id += 1
        chat = chat or {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        return {"message_id": self.message_id, "date": int(time.time()), "chat": chat, "from": user}

    def message(self, text: str, *, user: dict[str, Any] = USER, chat: dict[str, Any] | None = None,
                entities: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
        body = {**self._base(user, chat), "text": text, **extra}
        if entities:
            body["entities"] = entities
        return self._next("message", body)

    def command(self, text: str, **kw: Any) -> dict[str, Any]:
        word = text.split()[0]
        return self.message(text, entities=[{"type": "bot_command", "offset": 0, "length": len(word)}], **kw)

    def mention(self, text: str, *, chat: dict[str, Any] = GROUP, **kw: Any) -> dict[str, Any]:
        """A group message that starts by mentioning the bot."""
        at = "@" + BOT["username"]
        return self.message(f"{at} {text}", chat=chat, entities=[{"type": "mention", "offset": 0, "length": len(at)}],
                            **kw)

    def forwarded(self, text: str, **kw: Any) -> dict[str, Any]:
        origin = {"type": "hidden_user", "sender_user_name": "王阿姨", "date": int(time.time()) - 3600}
        return self.message(text, forward_origin=origin, **kw)

    def photo(self, file_id: str, size: int, *, caption: str | None = None, user: dict[str, Any] = USER,
              chat: dict[str, Any] | None = None) -> dict[str, Any]:
        small = {"file_id": file_id + "s", "file_unique_id": file_id[-8:] + "s", "width": 90, "height": 60,
                 "file_size": max(1, size // 20)}
        big = {"file_id": file_id, "file_unique_id": file_id[-8:], "width": 1280, "height": 853, "file_size": size}
        body = {**self._base(user, chat), "photo": [small, big]}
        if caption is not None:
            body["caption"] = caption
        return self._next("message", body)

    def press(self, sent: Call, label: str, *, user: dict[str, Any] = USER) -> dict[str, Any]:
        """Tapping the button labelled `label` under a message the bot sent (a recorded sendMessage)."""
        markup = sent.params.get("reply_markup") or {}
        data = next(b["callback_data"] for row in markup["inline_keyboard"] for b in row if b["text"] == label)
        chat_id = int(sent.params["chat_id"])
        chat = {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup", "first_name": "李"}
        self.message_id += 1
        message = {"message_id": self.message_id, "date": int(time.time()), "chat": chat, "from": BOT,
                   "text": sent.params["text"], "reply_markup": markup}
        return self._next("callback_query", {"id": uuid.uuid4().hex[:16], "from": user, "message": message,
                                             "chat_instance": "8123", "data": data})

    def member(self, status: str, *, user: dict[str, Any] = USER) -> dict[str, Any]:
        """The person blocked ("kicked") or unblocked ("member") the bot in their private chat."""
        chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        old = "member" if status == "kicked" else "kicked"
        return self._next("my_chat_member", {
            "chat": chat, "from": user, "date": int(time.time()),
            "old_chat_member": {"user": BOT, "status": old, **({"until_date": 0} if old == "kicked" else {})},
            "new_chat_member": {"user": BOT, "status": status, **({"until_date": 0} if status == "kicked" else {})},
        })


def main() -> None:
    parser = argparse.ArgumentParser(description="A fake Telegram Bot API on localhost.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--rate", type=float, default=None, help="global sends per second before 429")
    parser.add_argument("--token", default=None, help="accept only this bot token (401 otherwise)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every call")
    parser.add_argument("--no-record", action="store_true", help="keep counters only (long benchmarks)")
    args = parser.parse_args()
    fake = FakeTelegram(token=args.token, rate=args.rate, record=not args.no_record, host=args.host,
                        port=args.port, latency=args.latency)
    print(f"fake Telegram Bot API on {fake.base_url}<token>/<method>", flush=True)
    fake._server.run(sockets=[fake._sock])


if __name__ == "__main__":
    main()
