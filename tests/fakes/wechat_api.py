"""A fake WeChat platform on localhost: the API server the bot calls, and the pusher that calls the bot.

`FakeWeChatAPI` is a real HTTP server in a thread speaking the official account API's wire format
(GET /cgi-bin/token, POST /cgi-bin/message/custom/send, GET /cgi-bin/media/get, POST /cgi-bin/menu/create;
tags, media upload, 群发 and 订阅通知 in `api.push`, see tests/fakes/wechat_push.py), checking access
tokens as WeChat does (40001 for an unknown one), recording every request, and
answering scripted errcodes on demand:

    with FakeWeChatAPI(app_id, secret) as api:   # settings: wechat_api_base=api.base_url
        api.add_media("MEDIA1", photo_bytes); api.fail("message/custom/send", 45015)

`WeChatPusher` builds callbacks exactly as WeChat's servers do (signature over token, timestamp and
nonce; in compatible and safe mode the message encrypted with wechatpy's own WeChatCrypto) and reads
the passive reply back (decrypting it in safe mode). As a process: python -m tests.fakes.wechat_api --port 8082
"""

from __future__ import annotations

import argparse
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import xmltodict
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

from tests.fakes.wechat_push import MULTIPART, FakePush

INVALID_TOKEN = {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"}


@dataclass
class Recorded:
    method: str
    endpoint: str                 # e.g. "message/custom/send"
    query: dict[str, str]
    body: Any                     # parsed JSON, or None
    errcode: int = 0              # what the fake answered (0: accepted)
    at: float = field(default_factory=time.monotonic)


class FakeWeChatAPI:
    def __init__(self, app_id: str = "wxfakeappid00001", secret: str = "fake-app-secret",
                 expires_in: int = 7200) -> None:
        self.app_id, self.secret, self.expires_in = app_id, secret, expires_in
        self.requests: list[Recorded] = []
        self.media: dict[str, tuple[bytes, str]] = {}
        self.tokens: set[str] = set()
        self.push = FakePush()
        self._failures: dict[str, list[int]] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/cgi-bin/"

    def __enter__(self) -> FakeWeChatAPI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- control ----------------------------------------------------------------------------------
    def add_media(self, media_id: str, data: bytes, content_type: str = "image/jpeg") -> None:
        self.media[media_id] = (data, content_type)

    def fail(self, endpoint: str, errcode: int, times: int = 1) -> None:
        """The next `times` calls of `endpoint` answer `errcode`."""
        with self._lock:
            self._failures.setdefault(endpoint, []).extend([errcode] * times)

    def revoke_tokens(self) -> None:
        """Every token issued so far becomes invalid (as after a refresh elsewhere)."""
        with self._lock:
            self.tokens.clear()

    def calls(self, endpoint: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.endpoint == endpoint]

    def sent_texts(self, openid: str | None = None) -> list[str]:
        """The texts the fake accepted (errcode 0), in order."""
        return [r.body["text"]["content"] for r in self.calls("message/custom/send")
                if r.errcode == 0 and r.body and r.body.get("msgtype") == "text"
                and openid in (None, r.body.get("touser"))]

    def wait_for(self, endpoint: str, count: int = 1, timeout: float = 5.0) -> list[Recorded]:
        deadline = time.monotonic() + timeout
        while len(self.calls(endpoint)) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.calls(endpoint)

    # -- the API ----------------------------------------------------------------------------------
    def answer(self, method: str, endpoint: str, query: dict[str, str], raw: bytes) -> tuple[int, str, bytes]:
        body: Any = None
        if raw and endpoint not in MULTIPART:
            try:
                body = json.loads(raw.decode("utf-8"))
            except ValueError:
                body = None
        record = Recorded(method, endpoint, query, body)
        status, ctype, out = self._answer(endpoint, query, body, raw)
        if ctype.startswith("application/json"):
            record.errcode = int(json.loads(out).get("errcode", 0))
        with self._lock:
            self.requests.append(record)
        return status, ctype, out

    def _answer(self, endpoint: str, query: dict[str, str], body: Any, raw: bytes) -> tuple[int, str, bytes]:
        if raw and body is None and endpoint not in MULTIPART:
            return _json({"errcode": 47001, "errmsg": "data format error"})
        with self._lock:
            queued = self._failures.get(endpoint) if query.get("access_token") in self.tokens else None
            failure = queued.pop(0) if queued else None
        if endpoint == "token":
            if query.get("appid") != self.app_id or query.get("secret") != self.secret:
                return _json({"errcode": 40125, "errmsg": "invalid appsecret"})
            token = "FAKE-TOKEN-" + secrets.token_hex(8)
            with self._lock:
                self.tokens.add(token)
            return _json({"access_token": token, "expires_in": self.expires_in})
        if query.get("access_token") not in self.tokens:
            return _json(INVALID_TOKEN)
        if failure is not None:
            return _json({"errcode": failure, "errmsg": f"fake error {failure}"})
        if endpoint == "media/get":
            found = self.media.get(query.get("media_id", ""))
            if found is None:
                return _json({"errcode": 40007, "errmsg": "invalid media_id"})
            return 200, found[1], found[0]
        if endpoint in ("message/custom/send", "menu/create"):
            if not isinstance(body, dict):
                return _json({"errcode": 44002, "errmsg": "empty post data"})
            return _json({"errcode": 0, "errmsg": "ok"})
        pushed = self.push.answer(endpoint, query, body, raw)
        if pushed is not None:
            return _json(pushed)
        return _json({"errcode": 48001, "errmsg": "api unauthorized"}, 404)


def _json(obj: dict, status: int = 200) -> tuple[int, str, bytes]:
    return status, "application/json; encoding=utf-8", json.dumps(obj, ensure_ascii=False).encode("utf-8")


def _handler(api: FakeWeChatAPI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self, method: str) -> None:
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            endpoint = url.path.removeprefix("/cgi-bin/")
            status, ctype, out = api.answer(method, endpoint, query, raw)
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def do_GET(self) -> None:  # noqa: N802
            self._serve("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._serve("POST")

        def log_message(self, *args: object) -> None:
            pass

    return Handler


# --- the other direction: WeChat's servers calling the bot ---------------------------------------
def sign(*parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(*parts)
    return str(signer.signature)


class WeChatPusher:
    """Posts callbacks to /wechat as WeChat does, in plain, compat(ible) or safe mode."""

    def __init__(self, http: Any, *, token: str, app_id: str, aes_key: str = "", mode: str = "plain",
                 account: str = "gh_fundguard01") -> None:
        self.http, self.token, self.app_id, self.mode, self.account = http, token, app_id, mode, account
        self.crypto = WeChatCrypto(token, aes_key, app_id) if mode != "plain" else None
        self._msg_id = int(time.time() * 1000) * 1000

    def next_id(self) -> str:
        self._msg_id += 1
        return str(self._msg_id)

    def xml(self, user: str, msg_type: str, created: int | None = None, **fields: str) -> str:
        parts = [f"<ToUserName><![CDATA[{self.account}]]></ToUserName>",
                 f"<FromUserName><![CDATA[{user}]]></FromUserName>",
                 f"<CreateTime>{created or int(time.time())}</CreateTime>",
                 f"<MsgType><![CDATA[{msg_type}]]></MsgType>"]
        for name, value in fields.items():
            parts.append(f"<{name}>{value}</{name}>" if name == "MsgId" else f"<{name}><![CDATA[{value}]]></{name}>")
        return "<xml>" + "".join(parts) + "</xml>"

    def text(self, user: str, content: str, msg_id: str | None = None) -> str:
        return self.xml(user, "text", Content=content, MsgId=msg_id or self.next_id())

    def event(self, user: str, event: str, key: str = "", created: int | None = None) -> str:
        fields = {"Event": event, **({"EventKey": key} if key or event == "CLICK" else {})}
        return self.xml(user, "event", created, **fields)

    def request(self, xml: str, *, timestamp: str | None = None, nonce: str | None = None,
                signature: str | None = None, msg_signature: str | None = None) -> tuple[dict, bytes]:
        """The query string and body WeChat would send for `xml`."""
        timestamp = timestamp or str(int(time.time()))
        nonce = nonce or str(secrets.randbelow(10**9))
        query = {"signature": signature or sign(self.token, timestamp, nonce), "timestamp": timestamp,
                 "nonce": nonce, "openid": "ignored-by-the-bot"}
        if self.crypto is None:
            return query, xml.encode("utf-8")
        sealed = xmltodict.parse(self.crypto.encrypt_message(xml, nonce, timestamp))["xml"]
        query.update(encrypt_type="aes", msg_signature=msg_signature or sealed["MsgSignature"])
        if self.mode == "compat":  # the clear fields and the encrypted copy side by side
            body = xml.replace("</xml>", f"<Encrypt><![CDATA[{sealed['Encrypt']}]]></Encrypt></xml>")
        else:
            body = (f"<xml><ToUserName><![CDATA[{self.account}]]></ToUserName>"
                    f"<Encrypt><![CDATA[{sealed['Encrypt']}]]></Encrypt></xml>")
        return query, body.encode("utf-8")

    def post(self, xml: str, **kwargs: Any) -> Any:
        query, body = self.request(xml, **kwargs)
        return self.http.post("/wechat", params=query, content=body,
                              headers={"Content-Type": "text/xml"})

    def reply(self, response: Any) -> str | None:
        """The passive reply's text (None for `success`), decrypted and checked as WeChat would."""
        assert response.status_code == 200, (response.status_code, response.text)
        if response.text == "success":
            return None
        doc = xmltodict.parse(response.text)["xml"]
        if "Encrypt" in doc:
            assert self.crypto is not None, "an encrypted reply to a plaintext message"
            inner = self.crypto.decrypt_message(response.text, doc["MsgSignature"], doc["TimeStamp"], doc["Nonce"])
            doc = xmltodict.parse(inner)["xml"]
        assert doc["MsgType"] == "text" and doc["FromUserName"] == self.account
        return str(doc["Content"])

    def say(self, user: str, content: str) -> str | None:
        return self.reply(self.post(self.text(user, content)))


def main() -> None:  # pragma: no cover - a manual tool
    parser = argparse.ArgumentParser(description="a fake WeChat API on localhost")
    parser.add_argument("--port", type=int, default=8082)
    parser.add_argument("--app-id", default="wxfakeappid00001")
    parser.add_argument("--secret", default="fake-app-secret")
    args = parser.parse_args()
    api = FakeWeChatAPI(args.app_id, args.secret)
    api._server.server_close()
    api._server = ThreadingHTTPServer(("127.0.0.1", args.port), _handler(api))
    print(f"fake WeChat API at http://127.0.0.1:{args.port}/cgi-bin/")
    api._server.serve_forever()


if __name__ == "__main__":
    main()
