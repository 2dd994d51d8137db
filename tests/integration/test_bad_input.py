"""Malformed outside input on every public route: a clear 4xx, never a 500, never a stack trace.

WeChat XML, Telegram updates, console forms and chat text all come from outside; whatever they hold,
the answer is a 4xx with a short message (JSON on the JSON routes). A few inputs that are merely odd
(a garbage `page` in a console query string, text/plain carrying valid JSON) are accepted on purpose;
those tests say so and only assert that nothing crashes.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.fakes.telegram_api import Updates
from tests.fakes.wechat_api import WeChatPusher, sign
from tests.integration.test_console_security import add_staff, csrf_of, file_via_chat, last_tip_id, login, sign_in, totp
from tests.integration.test_telegram import HEADER, SECRET, bot, bot_any_db  # noqa: F401 - fixtures
from tests.integration.test_wechat import AES_KEY, APP_ID, TOKEN, USER, api, open_wechat  # noqa: F401 - fixtures
from webhook.app import MAX_BODY, create_app

TRACE_MARKERS = ("Traceback", 'File "')


# --- helpers -----------------------------------------------------------------------------------------
def assert_4xx(response, status: int | None = None, *, json_error: bool = True) -> None:  # type: ignore[no-untyped-def]
    """A 4xx (exactly `status` when given), no stack trace, and for JSON routes {"error": "..."}."""
    code = response.status_code
    assert code != 500 and 400 <= code < 500, (code, response.text[:500])
    if status is not None:
        assert code == status, (code, response.text[:500])
    for marker in TRACE_MARKERS:
        assert marker not in response.text, response.text[:2000]
    if json_error:
        assert response.headers.get("content-type", "").startswith("application/json"), response.headers
        body = response.json()
        assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"].strip(), body


def assert_no_crash(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code < 500, (response.status_code, response.text[:500])
    for marker in TRACE_MARKERS:
        assert marker not in response.text, response.text[:2000]


def chunks(data: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    """A body sent chunked (no Content-Length): the size guard must not rely on the header alone."""
    for i in range(0, len(data), size):
        yield data[i:i + size]


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# --- POST /api/chat ----------------------------------------------------------------------------------
JSON = {"Content-Type": "application/json"}
MB = 1024 * 1024

CHAT_CASES = {
    "not json": (b"hello there", JSON, 400),
    "truncated json": (b'{"user": "u1", "text": "hi"', JSON, 400),
    "empty body": (b"", JSON, 422),  # FastAPI reads no body as a missing one
    "json array": (b'[{"user": "u1", "text": "hi"}]', JSON, 422),
    "json string": (b'"hi"', JSON, 422),
    "json null": (b"null", JSON, 422),
    "empty object": (b"{}", JSON, 422),
    "missing text": (b'{"user": "u1"}', JSON, 422),
    "missing user": (b'{"text": "hi"}', JSON, 422),
    "user as number": (b'{"user": 12345, "text": "hi"}', JSON, 422),
    "user as object": (b'{"user": {"id": "u1"}, "text": "hi"}', JSON, 422),
    "user as list": (b'{"user": ["u1"], "text": "hi"}', JSON, 422),
    "text as list": (b'{"user": "u1", "text": ["hi"]}', JSON, 422),
    "text as number": (b'{"user": "u1", "text": 42}', JSON, 422),
    "text as null": (b'{"user": "u1", "text": null}', JSON, 422),
    "empty user": (b'{"user": "", "text": "hi"}', JSON, 422),
    "user too long": (json.dumps({"user": "u" * 65, "text": "hi"}).encode(), JSON, 422),
    "user with slash": (b'{"user": "../etc/passwd", "text": "hi"}', JSON, 422),
    "user with null byte": (b'{"user": "u\\u00001", "text": "hi"}', JSON, 422),
    "user not ascii": (json.dumps({"user": "用户", "text": "hi"}).encode(), JSON, 422),
    "empty text": (b'{"user": "u1", "text": ""}', JSON, 422),
    "blank text": (b'{"user": "u1", "text": "  \\n\\t "}', JSON, 422),
    # the spec: text is 1-2000 chars, and an over-long text is refused (not truncated)
    "text 2001 chars": (json.dumps({"user": "u1", "text": "集" * 2001}).encode(), JSON, 422),
    "text 1 MB": (json.dumps({"user": "u1", "text": "x" * MB}).encode(), JSON, 413),
    "invalid utf-8": (b'{"user": "u1", "text": "\xff\xfe\xc3\x28"}', JSON, 400),
    "latin-1 body": ('{"user": "u1", "text": "café"}'.encode("latin-1"), JSON, 400),
    "raw null byte": (b'{"user": "u1", "text": "a\x00b"}', JSON, 400),
    "deeply nested": (('{"user": "u1", "text": ' + nested(100_000) + "}").encode(), JSON, 400),
    "nested text": (('{"user": "u1", "text": ' + nested(50) + "}").encode(), JSON, 422),
    "form-urlencoded": (b"user=u1&text=hi", {"Content-Type": "application/x-www-form-urlencoded"}, 400),
    "multipart": (b'--b\r\nContent-Disposition: form-data; name="user"\r\n\r\nu1\r\n--b--\r\n',
                  {"Content-Type": "multipart/form-data; boundary=b"}, 400),
    "xml": (b"<xml><user>u1</user></xml>", {"Content-Type": "application/xml"}, 400),
    "bad content-length": (b'{"user": "u1", "text": "hi"}', {**JSON, "Content-Length": "abc"}, 413),
}


@pytest.mark.parametrize("name", list(CHAT_CASES))
def test_chat_refuses_malformed_bodies_with_a_json_error(sqlite_client, name):
    body, headers, status = CHAT_CASES[name]
    assert_4xx(sqlite_client.post("/api/chat", content=body, headers=headers), status)


def test_chat_refuses_a_huge_chunked_body_without_content_length(sqlite_client):
    body = json.dumps({"user": "u1", "text": "x" * MB}).encode()
    assert_4xx(sqlite_client.post("/api/chat", content=chunks(body), headers=JSON), 413)  # counted as it arrives


def test_chat_error_names_the_bad_field(sqlite_client):
    r = sqlite_client.post("/api/chat", json={"user": "u1", "text": "x" * 2001})
    assert_4xx(r, 422)
    assert "text" in r.json()["error"]


def test_chat_text_with_an_escaped_null_byte_does_not_crash(client):  # SQLite and PostgreSQL
    # "\u0000" inside a JSON string is valid JSON and the text is otherwise in range: answered or refused
    r = client.post("/api/chat", json={"user": "u1", "text": "什么是\u0000非法集资"})
    assert_no_crash(r)
    assert client.post("/api/chat", json={"user": "u1", "text": "你好"}).status_code == 200


@pytest.mark.parametrize("kind", ["text/plain", "", "application/x-www-form-urlencoded"])
def test_chat_reads_a_json_body_whatever_the_content_type_says(sqlite_client, kind):
    # deliberate (webhook/chat.py JSONBodyRoute): `curl -d '{...}'` must work
    headers = {"Content-Type": kind} if kind else {}
    r = sqlite_client.post("/api/chat", content=json.dumps({"user": "u1", "text": "什么是非法集资"}).encode(),
                           headers=headers)
    assert r.status_code == 200, r.text


def test_chat_text_at_the_limit_is_answered(sqlite_client):
    r = sqlite_client.post("/api/chat", json={"user": "u1", "text": "集" * 2000})
    assert r.status_code == 200, r.text


# --- unknown routes, wrong methods, /metrics ---------------------------------------------------------
@pytest.mark.parametrize("path", ["/nope", "/api/chat/extra", "/api", "/api/%00", "/../../etc/passwd",
                                  "/static/..%2F..%2Fapp.py", "/wechat/x", "/telegram/x"])
def test_unknown_routes_get_a_json_404(sqlite_client, path):
    assert_4xx(sqlite_client.get(path), 404, json_error=not path.startswith("/static"))


@pytest.mark.parametrize(("method", "path"), [("GET", "/api/chat"), ("PUT", "/api/chat"), ("DELETE", "/api/chat"),
                                              ("GET", "/telegram"), ("PUT", "/wechat"), ("POST", "/healthz"),
                                              ("POST", "/metrics"), ("POST", "/readyz"), ("PATCH", "/")])
def test_wrong_methods_get_a_json_405(sqlite_client, method, path):
    assert_4xx(sqlite_client.request(method, path), 405)


def test_channels_that_are_not_configured_answer_404(sqlite_client):
    assert_4xx(sqlite_client.post("/wechat", content=b"<xml/>"), 404)
    assert_4xx(sqlite_client.get("/wechat", params={"echostr": "x"}), 404)
    assert_4xx(sqlite_client.post("/telegram", content=b"{}"), 404)


@pytest.fixture
def metrics_client(make_services, sqlite_url) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    svc = make_services(sqlite_url, metrics_token="metrics-token-1")
    with TestClient(create_app(services=svc), raise_server_exceptions=False) as client:
        yield client
    svc.db.dispose()


@pytest.mark.parametrize("auth", [None, "", "Bearer", "Bearer wrong", "bearer metrics-token-1", "metrics-token-1",
                                  "Basic bWV0cmljczp4", "Bearer metrics-token-1x", "Bearer m\u00e9trics"])
def test_metrics_refuses_a_bad_token(metrics_client, auth):
    headers = {} if auth is None else {"Authorization": auth.encode("latin-1")}
    assert_4xx(metrics_client.get("/metrics", headers=headers), 401)  # type: ignore[arg-type]


def test_metrics_with_the_token_is_served(metrics_client):
    assert metrics_client.get("/metrics", headers={"Authorization": "Bearer metrics-token-1"}).status_code == 200


# --- /wechat -----------------------------------------------------------------------------------------
def signed(timestamp: str | None = None, nonce: str = "1405437719") -> dict[str, str]:
    timestamp = timestamp or str(int(time.time()))
    return {"signature": sign(TOKEN, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}


HANDSHAKES = {
    "no params": ({}, 403),
    "only echostr": ({"echostr": "123"}, 403),
    "wrong signature": ({**signed(), "signature": "0" * 40, "echostr": "123"}, 403),
    "signature not hex": ({**signed(), "signature": "签名" * 20, "echostr": "123"}, 403),
    "timestamp not a number": ({"signature": sign(TOKEN, "abc", "1"), "timestamp": "abc", "nonce": "1",
                                "echostr": "1"}, 403),
    "timestamp full-width digits": ({"signature": sign(TOKEN, "１２３", "1"), "timestamp": "１２３", "nonce": "1",
                                     "echostr": "1"}, 403),
    "timestamp huge": ({**signed("9" * 12), "echostr": "1"}, 403),
    "timestamp too long": ({**signed("9" * 400), "echostr": "1"}, 403),
    "timestamp negative": ({**signed("-1"), "echostr": "1"}, 403),
    "nonce with symbols": ({**signed(nonce="a;b<c>"), "echostr": "1"}, 403),
    "missing echostr": (signed(), 400),
    "echostr with markup": ({**signed(), "echostr": "<script>alert(1)</script>"}, 400),
    "echostr huge": ({**signed(), "echostr": "1" * 5000}, 400),
}


@pytest.mark.parametrize("name", list(HANDSHAKES))
def test_wechat_handshake_refuses_bad_parameters(open_wechat, sqlite_url, name):  # noqa: F811
    wx, _, _ = open_wechat(sqlite_url, mode="safe")
    params, status = HANDSHAKES[name]
    assert_4xx(wx.http.get("/wechat", params=params), status)


def post_wechat(wx: WeChatPusher, body: bytes, params: dict[str, str] | None = None, **headers: str):  # type: ignore[no-untyped-def]
    return wx.http.post("/wechat", params=signed() if params is None else params, content=body,
                        headers={"Content-Type": "text/xml", **headers})


def _xml(wx: WeChatPusher, **fields: str) -> bytes:
    return wx.xml(USER, "text", **fields).encode()


PLAIN_BODIES = {
    "empty": b"",
    "not xml": b"hello, this is not XML",
    "json": b'{"MsgType": "text"}',
    "truncated xml": b"<xml><ToUserName><![CDATA[gh_x]]></ToUserName><MsgType>te",
    "invalid utf-8": b"<xml><MsgType>text</MsgType><Content>\xff\xfe</Content></xml>",
    "wrong root": b"<message><MsgType>text</MsgType></message>",
    "empty root": b"<xml></xml>",
    "root with text only": b"<xml>text</xml>",
    "no MsgType": b"<xml><ToUserName>gh_x</ToUserName><FromUserName>u</FromUserName></xml>",
    "doctype": b'<?xml version="1.0"?><!DOCTYPE xml [<!ELEMENT xml ANY>]><xml><MsgType>text</MsgType></xml>',
    "external entity": (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                        b"<xml><MsgType>text</MsgType><Content>&x;</Content></xml>"),
    "billion laughs": (b'<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
                       b"<xml><MsgType>text</MsgType><Content>&b;</Content></xml>"),
    "spaced doctype": b"<! DOCTYPE xml><xml><MsgType>text</MsgType></xml>",
    "undeclared entity": b"<xml><MsgType>text</MsgType><Content>&x;</Content></xml>",
    "deeply nested": b"<xml><MsgType>text</MsgType>" + b"<a>" * 5000 + b"</a>" * 5000 + b"</xml>",
    "missing FromUserName": b"<xml><ToUserName>gh_x</ToUserName><MsgType>text</MsgType><CreateTime>1</CreateTime>"
                            b"<Content>hi</Content></xml>",
    "FromUserName with markup": b"<xml><ToUserName>gh_x</ToUserName><FromUserName>&lt;u&gt;</FromUserName>"
                                b"<CreateTime>1</CreateTime><MsgType>text</MsgType></xml>",
    "FromUserName twice": b"<xml><ToUserName>gh_x</ToUserName><FromUserName>a</FromUserName>"
                          b"<FromUserName>b</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType></xml>",
    "FromUserName nested": b"<xml><ToUserName>gh_x</ToUserName><FromUserName><a>1</a></FromUserName>"
                           b"<CreateTime>1</CreateTime><MsgType>text</MsgType></xml>",
    "CreateTime not a number": b"<xml><ToUserName>gh_x</ToUserName><FromUserName>u1</FromUserName>"
                               b"<CreateTime>yesterday</CreateTime><MsgType>text</MsgType></xml>",
    "MsgId not a number": b"<xml><ToUserName>gh_x</ToUserName><FromUserName>u1</FromUserName>"
                          b"<CreateTime>1</CreateTime><MsgType>text</MsgType><MsgId>abc</MsgId></xml>",
    "MsgType nested": b"<xml><ToUserName>gh_x</ToUserName><FromUserName>u1</FromUserName>"
                      b"<CreateTime>1</CreateTime><MsgType><a>text</a></MsgType></xml>",
    "Encrypt without a key": b"<xml><ToUserName>gh_x</ToUserName><Encrypt>abcd</Encrypt></xml>",
}


@pytest.mark.parametrize("name", list(PLAIN_BODIES))
def test_wechat_plain_mode_refuses_malformed_xml(open_wechat, sqlite_url, name):  # noqa: F811
    wx, _, _ = open_wechat(sqlite_url, mode="plain")
    assert_4xx(post_wechat(wx, PLAIN_BODIES[name]), 400)


@pytest.mark.parametrize("params", [{}, {"signature": "0" * 40}, {"timestamp": "1", "nonce": "1"},
                                    {**signed(), "signature": "x"}, {**signed(), "nonce": "no pe"}])
def test_wechat_post_refuses_missing_or_wrong_signature_params(open_wechat, sqlite_url, params):  # noqa: F811
    wx, _, _ = open_wechat(sqlite_url, mode="plain")
    assert_4xx(post_wechat(wx, wx.text(USER, "你好").encode(), params), 403)


def test_wechat_refuses_a_huge_body(open_wechat, sqlite_url):  # noqa: F811
    wx, _, _ = open_wechat(sqlite_url, mode="plain")
    big = wx.text(USER, "集" * 40_000).encode()  # ~120 kB: above the XML limit, below the app's body limit
    assert_4xx(post_wechat(wx, big), 413)
    huge = b"<xml>" + b"x" * (2 * MAX_BODY) + b"</xml>"
    assert_4xx(post_wechat(wx, huge), 413)
    assert_4xx(wx.http.post("/wechat", params=signed(), content=chunks(huge)), 413)


def test_wechat_odd_but_well_formed_messages_are_answered(open_wechat, sqlite_url):  # noqa: F811
    # nested or empty content fields are read as empty text, not as an error
    wx, _, _ = open_wechat(sqlite_url, mode="plain")
    for body in (wx.xml(USER, "text", Content="").encode(),
                 wx.xml(USER, "text", MsgId="1").encode().replace(b"</xml>", b"<Content><a>1</a></Content></xml>"),
                 wx.xml(USER, "nonsense").encode()):
        response = post_wechat(wx, body)
        assert_no_crash(response)
        answer = wx.reply(response)  # a passive text reply from the account, not a bare `success`
        assert answer and answer.strip(), response.text
    assert_4xx(post_wechat(wx, wx.xml(USER, "event", Event="").encode()), 400)  # an event that names none


def _sealed(wx: WeChatPusher, encrypt: str, params: dict[str, str] | None = None) -> tuple[dict[str, str], bytes]:
    """A safe-mode request around `encrypt`, correctly signed (so decryption itself is what fails)."""
    params = params or signed()
    params = {**params, "encrypt_type": "aes",
              "msg_signature": sign(TOKEN, params["timestamp"], params["nonce"], encrypt)}
    body = f"<xml><ToUserName><![CDATA[gh_fundguard01]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    return params, body.encode()


def _encrypt_inner(wx: WeChatPusher, inner: str) -> str:
    assert wx.crypto is not None
    import xmltodict

    params = signed()
    sealed = wx.crypto.encrypt_message(inner, params["nonce"], params["timestamp"])
    return str(xmltodict.parse(sealed)["xml"]["Encrypt"])


def test_wechat_safe_mode_refuses_bad_encrypted_payloads(open_wechat, sqlite_url):  # noqa: F811
    wx, _, _ = open_wechat(sqlite_url, mode="safe")
    good_query, good_body = wx.request(wx.text(USER, "你好"))
    good = _encrypt_inner(wx, wx.text(USER, "你好"))
    key = base64.b64decode(AES_KEY + "=")
    cases = {
        "truncated": (good[: len(good) // 2], 400),
        "truncated to a block": (base64.b64encode(base64.b64decode(good)[:32]).decode(), 400),
        "one block": (base64.b64encode(b"\0" * 16).decode(), 400),
        "not base64": ("!!!not base64!!!", 400),
        "empty": ("", 400),
        "random blocks": (base64.b64encode(key * 4).decode(), None),  # garbage after decryption: 400 or 403
        "not xml inside": (_encrypt_inner(wx, "plain words, not XML"), 400),
        "doctype inside": (_encrypt_inner(wx, '<!DOCTYPE x [<!ENTITY a "b">]><xml><MsgType>text</MsgType></xml>'),
                           400),
        "no MsgType inside": (_encrypt_inner(wx, "<xml><Content>hi</Content></xml>"), 400),
        "bad user inside": (_encrypt_inner(wx, "<xml><ToUserName>gh</ToUserName><FromUserName>a b</FromUserName>"
                                                 "<CreateTime>1</CreateTime><MsgType>text</MsgType></xml>"), 400),
    }
    for name, (encrypt, status) in cases.items():
        params, body = _sealed(wx, encrypt)
        r = wx.http.post("/wechat", params=params, content=body, headers={"Content-Type": "text/xml"})
        assert r.status_code != 500, name
        assert_4xx(r, status)
    # the envelope itself
    assert_4xx(wx.http.post("/wechat", params={**good_query, "msg_signature": "0" * 40}, content=good_body), 403)
    assert_4xx(wx.http.post("/wechat", params={k: v for k, v in good_query.items() if k != "msg_signature"},
                            content=good_body), 403)
    assert_4xx(wx.http.post("/wechat", params={**good_query, "encrypt_type": "raw"}, content=good_body), 403)
    assert_4xx(wx.http.post("/wechat", params=good_query, content=b"<xml><ToUserName>x</ToUserName></xml>"), 400)
    assert_4xx(wx.http.post("/wechat", params=good_query,
                            content=b"<xml><Encrypt><a>nested</a></Encrypt></xml>"), 400)
    other = WeChatPusher(wx.http, token=TOKEN, app_id="wxsomeoneelse0001", aes_key=AES_KEY, mode="safe")
    assert_4xx(other.post(wx.text(USER, "你好")), 403)
    # and the genuine message still works after all that
    assert wx.http.post("/wechat", params=good_query, content=good_body).status_code == 200


# --- /telegram ---------------------------------------------------------------------------------------
def post_telegram(client: TestClient, body: bytes, secret: str | bytes | None = SECRET):  # type: ignore[no-untyped-def]
    headers: dict = {"Content-Type": "application/json"}
    if secret is not None:
        headers[HEADER] = secret
    return client.post("/telegram", content=body, headers=headers)


def _update(**message: object) -> bytes:
    u = Updates()
    data = u.message("你好")
    data["message"].update(message)
    return json.dumps(data).encode()


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET + "x", SECRET.upper(), "s\u00e9cret".encode("latin-1"),
                                    "x" * 5000])
def test_telegram_refuses_a_wrong_or_missing_secret(bot, secret):  # noqa: F811
    client, _ = bot
    assert_4xx(post_telegram(client, json.dumps(Updates().message("你好")).encode(), secret), 403)


TELEGRAM_BODIES = {
    "not json": (b"update please", 400),
    "empty": (b"", 400),
    "invalid utf-8": (b'{"update_id": 1, "message": {"text": "\xff\xfe"}}', 400),
    "deeply nested": (('{"update_id": 1, "message": ' + nested(100_000) + "}").encode(), 400),
    "json array": (b"[1, 2, 3]", 422),
    "json string": (b'"update"', 422),
    "json null": (b"null", 422),
    "no update_id": (b'{"message": {}}', 422),
    "update_id as string": (b'{"update_id": "1"}', 422),
    "update_id as float": (b'{"update_id": 1.5}', 422),
    "update_id as bool": (b'{"update_id": true}', 422),
    "message as string": (b'{"update_id": 7, "message": "hello"}', 422),
    "message as list": (b'{"update_id": 7, "message": [1, 2]}', 422),
    "message empty": (b'{"update_id": 7, "message": {}}', 422),
    "chat as string": (_update(chat="private"), 422),
    "from as number": (_update(**{"from": 5}), 422),
    "date as text": (_update(date="yesterday"), 422),
    "date far future": (_update(date=10**20), 422),
    "date huge negative": (_update(date=-(10**20)), 422),
    "date float overflow": (_update(date=1e308), 422),
    "date year 10000": (_update(date=253402300800), 422),
    "date NaN": (_update(date=float("nan")), 422),
    "entities as string": (_update(entities="bold"), 422),
    "callback_query as number": (b'{"update_id": 7, "callback_query": 5}', 422),
}


@pytest.mark.parametrize("name", list(TELEGRAM_BODIES))
def test_telegram_refuses_what_is_not_an_update(bot, name):  # noqa: F811
    client, _ = bot
    body, status = TELEGRAM_BODIES[name]
    assert_4xx(post_telegram(client, body), status)


ODD_UPDATES = {  # what each deserves: an answer in the chat, silence (nothing to answer), or a 422
    "nothing in it": ({"update_id": 900001}, "silent"),
    "a future field": ({"update_id": 900002, "some_future_field": {"x": 1}}, "silent"),
    "message null": ({"update_id": 10**30, "message": None}, "refused"),
    "text as number": (json.loads(_update(text=12345)), "refused"),
    "text null": (json.loads(_update(text=None)), "silent"),  # a message with nothing to read
    "a new field in the message": (json.loads(_update(brand_new_field=[1, 2, 3])), "answered"),
    "NUL characters": (json.loads(_update(text="\u0000" * 10)), "answered"),
}


@pytest.mark.parametrize("name", list(ODD_UPDATES))
def test_telegram_odd_updates_do_not_crash(bot_any_db, tg, caplog, name):  # noqa: F811
    client, _ = bot_any_db  # SQLite and PostgreSQL (which refuses NUL in text)
    update, deserves = ODD_UPDATES[name]
    tg.reset()
    with caplog.at_level(logging.WARNING):
        response = post_telegram(client, json.dumps(update).encode())
    assert_no_crash(response)
    assert response.status_code == (422 if deserves == "refused" else 200), response.text
    chat = update.get("message", {}) and update["message"]["chat"]["id"]
    answers = [c for c in tg.calls("sendMessage") if chat and str(c.params["chat_id"]) == str(chat)]
    assert (len(answers) > 0) == (deserves == "answered"), [c.params for c in tg.calls("sendMessage")]
    failed = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert failed == [] and client.app.state.telegram.handler.failures == 0  # the handler never raised


def test_telegram_refuses_a_huge_body(bot):  # noqa: F811
    client, _ = bot
    huge = json.dumps({"update_id": 1, "message": {"text": "x" * (2 * MAX_BODY)}}).encode()
    assert_4xx(post_telegram(client, huge), 413)


def test_telegram_refuses_a_huge_chunked_body(bot):  # noqa: F811
    client, _ = bot
    huge = json.dumps({"update_id": 1, "message": {"text": "x" * (2 * MAX_BODY)}}).encode()
    assert_4xx(post_telegram(client, chunks(huge)), 413)


# --- /console ----------------------------------------------------------------------------------------
def _signed_in_console(make_services, url: str):  # type: ignore[no-untyped-def]
    """(client over https, services), signed in as a county handler, with one tip filed."""
    svc = make_services(url)
    with TestClient(create_app(services=svc), base_url="https://testserver",
                    raise_server_exceptions=False) as client:
        file_via_chat(client, "bad-input-tipster")
        add_staff(svc, "sq-handler", "shiquan")
        sign_in(client, "sq-handler")
        yield client, svc
    svc.db.dispose()


@pytest.fixture
def console_sqlite(make_services, sqlite_url):  # type: ignore[no-untyped-def]
    yield from _signed_in_console(make_services, sqlite_url)


@pytest.fixture
def console_any_db(make_services, db_url):  # type: ignore[no-untyped-def]
    yield from _signed_in_console(make_services, db_url)


BAD_IDS = ["abc", "0", "-1", "1.5", "1e3", "99999999999999999999999999", "2147483648", "%20", "１",
           "..%2F..%2Fetc%2Fpasswd", "%00", "1%00", "'%20OR%201=1"]


@pytest.mark.parametrize("tip_id", BAD_IDS)
def test_console_garbage_tip_ids_get_a_4xx_page(console_sqlite, tip_id):
    client, _ = console_sqlite
    for path in (f"/console/tips/{tip_id}", f"/console/tips/{tip_id}/evidence/1", f"/console/tips/1/evidence/{tip_id}"):
        r = client.get(path)
        assert_4xx(r, 404, json_error=False)


def test_console_path_traversal_gets_a_404(console_sqlite):
    client, _ = console_sqlite
    for path in ("/console/static/..%2F..%2Fapp.py", "/console/static/..%2Frouter.py",
                 "/console/static/%2Fetc%2Fpasswd", "/console/../webhook/app.py", "/console/tips/../../etc/passwd", "/console/static/console.css%00"):  # noqa: E501
        assert_4xx(client.get(path), 404, json_error=False)


@pytest.mark.parametrize("query", ["page=abc", "page=-5", "page=" + "9" * 5000, "since=2024-99-99", "until=yesterday",
                                   "status=<script>", "office=%00", "page=1e9", "page=%EF%BC%91"])
def test_console_garbage_query_strings_are_ignored(console_sqlite, query):
    # filters and paging fall back to their defaults on garbage (deliberate): just no crash
    client, _ = console_sqlite
    assert_no_crash(client.get(f"/console/?{query}"))


def test_console_posts_without_csrf_are_refused(console_sqlite):
    client, svc = console_sqlite
    tip = last_tip_id(svc)
    for path in (f"/console/tips/{tip}/status", f"/console/tips/{tip}/note", f"/console/tips/{tip}/assign",
                 f"/console/tips/{tip}/reveal", f"/console/tips/{tip}/reply", "/console/key", "/console/key/lock",
                 "/console/logout", "/console/reports/monthly", "/console/admin/staff"):
        assert_4xx(client.post(path, data={"to": "closed"}), 403, json_error=False)
        assert_4xx(client.post(path, data={"csrf": "forged", "to": "closed"}), 403, json_error=False)


@pytest.mark.parametrize("csrf", ["令牌", "t\u00e9st", "\u0000", "x" * 10_000])
def test_console_a_non_ascii_or_odd_csrf_token_is_refused(console_sqlite, csrf):
    client, svc = console_sqlite
    r = client.post(f"/console/tips/{last_tip_id(svc)}/note", data={"csrf": csrf, "text": "x"})
    assert_4xx(r, 403, json_error=False)


@pytest.mark.parametrize("origin", ["http://[", "https://[::1", "https://evil.example", "://", "https://testserver:99999"])
def test_console_a_malformed_origin_is_refused(console_sqlite, origin):
    client, svc = console_sqlite
    token = csrf_of(client)
    r = client.post(f"/console/tips/{last_tip_id(svc)}/note", data={"csrf": token, "text": "x"},
                    headers={"Origin": origin})
    assert_4xx(r, 403, json_error=False)


def test_console_login_refuses_odd_csrf_and_forms(console_sqlite):
    client, _ = console_sqlite
    client.cookies.clear()
    csrf_of(client, "/console/login")  # a pre-session cookie
    for data in ({"username": "sq-handler", "password": "x"}, {"csrf": "令牌", "username": "a", "password": "b"},
                 {"csrf": "", "username": "a"}):
        assert_4xx(client.post("/console/login", data=data), 403, json_error=False)
    token = csrf_of(client, "/console/login")
    r = client.post("/console/login", data={"csrf": token, "username": "u" * 65, "password": "x"})
    assert_4xx(r, 400, json_error=False)


def test_console_forms_with_missing_or_wrong_fields(console_sqlite):
    client, svc = console_sqlite
    tip = last_tip_id(svc)
    token = csrf_of(client)
    posts = [
        (f"/console/tips/{tip}/status", {"to": "x" * 33}, 400),  # over the form limit
        (f"/console/tips/{tip}/note", {"text": "x" * 8001}, 400),
        (f"/console/tips/{tip}/reply", {"text": "x" * 4001}, 400),
        (f"/console/tips/{tip}/assign", {"staff_id": "1" * 13}, 400),
        (f"/console/tips/{tip}/reveal", {"reason": "x" * 2001}, 400),
        ("/console/tips/abc/status", {"to": "closed"}, 400),
        ("/console/tips/99999999999999999999/note", {"text": "x"}, 400),
        ("/console/tips/2147483647/note", {"text": "x"}, 404),
        ("/console/admin/staff/abc/active", {"active": "1"}, 400),
        ("/console/admin/staff/-1/totp", {}, 400),
        ("/console/key", {"passphrase": "x" * 1025}, 400),
    ]
    for path, data, status in posts:
        assert_4xx(client.post(path, data={"csrf": token, **data}), status, json_error=False)
    # missing or wrong-typed values inside the limits: refused with a message, or sent back with a flash
    for path, data in [(f"/console/tips/{tip}/status", {}), (f"/console/tips/{tip}/status", {"to": "bogus"}),
                       (f"/console/tips/{tip}/assign", {"staff_id": "abc"}), (f"/console/tips/{tip}/assign",
                                                                                 {"staff_id": "-1"}),
                       (f"/console/tips/{tip}/note", {}), (f"/console/tips/{tip}/reply", {}),
                       (f"/console/tips/{tip}/reveal", {}), ("/console/reports/monthly", {"month": "2024-13"}),
                       ("/console/reports/monthly", {"month": "abcd-ef", "kind": "exe"}),
                       ("/console/reports/ledger", {"kind": "pdf"}), ("/console/key", {}),
                       ("/console/admin/staff", {"username": "x", "role": "god", "office": "nowhere"})]:
        r = client.post(path, data={"csrf": token, **data}, follow_redirects=False)
        assert_no_crash(r)


def test_console_malformed_form_encodings(console_sqlite):
    client, svc = console_sqlite
    path = f"/console/tips/{last_tip_id(svc)}/note"
    for body, kind in [(b"--x\r\ngarbage", "multipart/form-data; boundary=x"),
                       (b"csrf=a", "multipart/form-data"),
                       (b"\xff\xfe=\xff", "application/x-www-form-urlencoded"),
                       (b'{"csrf": "a"}', "application/json"),
                       (b"\x00" * 100, "text/plain")]:
        r = client.post(path, content=body, headers={"Content-Type": kind})
        assert_4xx(r, json_error=False)


def test_console_wrong_methods_and_garbage_cookies(console_sqlite):
    client, _ = console_sqlite
    for method, path in [("DELETE", "/console/"), ("PUT", "/console/tips/1"), ("GET", "/console/tips/1/status"),
                         ("GET", "/console/logout")]:
        r = client.request(method, path)
        assert_4xx(r, 405, json_error=False)  # staff get a page in Chinese, with the methods allowed
        assert r.headers["content-type"].startswith("text/html") and "不能这样打开" in r.text and r.headers["allow"]
    client.cookies.clear()
    for cookie in ("garbage", "x" * 4000, "%00%ff"):
        client.cookies.set("fg_console", cookie, domain="testserver", path="/console")
        r = client.get("/console/tips/1", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/console/login"), r.status_code
        client.cookies.clear()


@pytest.mark.parametrize("code", ["１２３４５６", "١٢٣٤٥٦", "12345x", "\u00b2\u00b3\u00b9456", " " * 16])
def test_console_login_with_an_odd_totp_code_is_refused(console_sqlite, code):
    client, svc = console_sqlite
    secret = add_staff(svc, "sq-totp", "shiquan", totp=True)
    assert secret
    r = login(client, "sq-totp", code=code)
    assert_4xx(r, 401, json_error=False)


def test_the_right_totp_code_typed_in_full_width_digits_signs_in(console_sqlite):
    client, svc = console_sqlite
    secret = add_staff(svc, "sq-wide", "shiquan", totp=True)
    wide = totp(secret).translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})  # as a Chinese IME types it
    r = login(client, "sq-wide", code=wide)
    assert r.status_code == 303 and r.headers["location"] == "/console/", r.status_code


@pytest.mark.parametrize("query", ["tip=\u00b2", "tip=%C2%B2%C2%B3", "tip=abc", "tip=" + "9" * 50, "tip=-1", "page=x",
                                   "action=" + "a" * 500, "actor=%00"])
def test_console_audit_page_ignores_garbage_filters(console_sqlite, query):
    client, svc = console_sqlite
    sign_in(client, "sq-boss", add_staff(svc, "sq-boss", "shiquan", role="supervisor"))  # TOTP for supervisors
    r = client.get(f"/console/audit?{query}")
    assert_no_crash(r)
    assert r.status_code == 200


def test_a_non_ascii_digit_content_length_is_refused(sqlite_client):
    # HTTP servers (h11, httptools) refuse such a header first; the app must not crash if one gets through.
    # The test client re-encodes headers as UTF-8, so this goes to the ASGI app directly.
    import asyncio

    sent: list[dict] = []
    body = b'{"user": "u1", "text": "hi"}'
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/api/chat", "raw_path": b"/api/chat", "root_path": "", "query_string": b"",
             "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"),
                         (b"content-length", "\u00b2".encode("latin-1"))],
             "client": ("127.0.0.1", 1), "server": ("testserver", 80), "state": {}}

    async def receive() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(sqlite_client.app(scope, receive, send))
    assert sent[0]["status"] == 413, sent


def test_console_forms_with_null_bytes_do_not_crash(console_any_db):
    # PostgreSQL refuses NUL in text columns; whatever the console stores must not turn that into a 500
    client, svc = console_any_db
    tip, token = last_tip_id(svc), csrf_of(client)
    for path, data in [(f"/console/tips/{tip}/status", {"to": "checking", "reason": "a\x00b"}),
                       (f"/console/tips/{tip}/status", {"to": "a\x00b", "reason": "x"}),
                       (f"/console/tips/{tip}/note", {"text": "a\x00b"}),
                       (f"/console/tips/{tip}/assign", {"staff_id": "\x00"}),
                       (f"/console/tips/{tip}/reveal", {"reason": "\x00"}),
                       ("/console/reports/monthly", {"month": "\x00", "kind": "\x00"}),
                       ("/console/key", {"passphrase": "\x00"})]:
        assert_no_crash(client.post(path, data={"csrf": token, **data}, follow_redirects=False))
    assert_no_crash(client.get("/console/?status=%00&since=%00&page=%00"))
    assert client.get("/console/").status_code == 200
