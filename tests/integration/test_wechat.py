"""The WeChat channel's inbound side: callbacks built exactly as WeChat builds them, in every mode.

WeChat's servers are played by `WeChatPusher` (signatures and encryption by wechatpy's own crypto);
the API the bot calls (media download) is `FakeWeChatAPI`, a real HTTP server on localhost.
"""

from __future__ import annotations

import base64
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.bootstrap import bootstrap
from bot.channels.wechat.menu import Menu
from bot.messages import Inbound
from bot.store.models import InboundSeen, Subscriber
from tests.conftest import REPO, make_settings
from tests.fakes.pictures import render
from tests.fakes.wechat_api import FakeWeChatAPI, WeChatPusher, sign
from webhook.app import create_app

TOKEN = "fgTestToken2024"
APP_ID = "wxfakeappid00001"
SECRET = "fake-app-secret"
AES_KEY = base64.b64encode(bytes(range(32))).decode().rstrip("=")
USER = "oFgTest_user-00000000000001"
MODES = ["plain", "compat", "safe", "compat-nokey"]


def wechat_settings(api: FakeWeChatAPI, mode: str = "plain") -> dict:
    out = {"wechat_token": TOKEN, "wechat_app_id": APP_ID, "wechat_app_secret": SECRET,
           "wechat_api_base": api.base_url}
    if mode in ("compat", "safe"):
        out["wechat_aes_key"] = AES_KEY
    return out


@pytest.fixture
def api():  # type: ignore[no-untyped-def]
    with FakeWeChatAPI(APP_ID, SECRET) as fake:
        yield fake


@pytest.fixture
def open_wechat(tmp_path: Path, embedded_nlu, api):  # type: ignore[no-untyped-def]
    """Factory: (pusher, services, app) for a WeChat-enabled app on `db_url`; closed at the end."""
    opened: list = []

    def factory(db_url: str, *, mode: str = "plain", budget: float | None = None, nlu=None,  # type: ignore[no-untyped-def]
                **overrides):
        budget_setting = {"wechat_reply_budget": budget} if budget is not None else {}
        settings = make_settings(tmp_path, db_url, **{**wechat_settings(api, mode), **budget_setting, **overrides})
        services = bootstrap(settings, nlu=nlu, embedded=embedded_nlu)
        app = create_app(services=services)
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        opened.append((client, services))
        pusher = WeChatPusher(client, token=TOKEN, app_id=APP_ID, aes_key=AES_KEY,
                              mode="compat" if mode == "compat-nokey" else mode)
        return pusher, services, app

    yield factory
    for client, services in opened:
        client.__exit__(None, None, None)
        services.db.dispose()


def engine_text(services, text: str, *, forwarded: bool = False, user: str = "cmp") -> str:  # type: ignore[no-untyped-def]
    """What the engine answers a web user: the WeChat reply must carry the same text."""
    turn = services.engine.handle(Inbound(channel="web", user=user, text=text, forwarded=forwarded))
    return turn.replies[0].text.strip()


# --- modes and signatures ----------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_a_text_message_gets_a_passive_reply_in_every_mode(open_wechat, sqlite_url, mode):
    wx, services, _ = open_wechat(sqlite_url, mode=mode)
    response = wx.post(wx.text(USER, "什么是非法集资"))
    assert ("<Encrypt>" in response.text) == (mode in ("compat", "safe"))
    text = wx.reply(response)
    assert services.knowledge.answer("definition").text.strip() in text
    assert "请回复数字选择：\n1. 非法集资有哪些特征" in text  # the buttons, as a numbered list
    assert len(text.encode("utf-8")) <= 2048


def test_server_verification_echoes_echostr_only_when_signed(open_wechat, sqlite_url):
    wx, _, _ = open_wechat(sqlite_url, mode="safe")
    now, nonce, echo = str(int(time.time())), "1405437719", "7231957043117056812"

    def get(**params: str) -> object:
        return wx.http.get("/wechat", params=params)

    ok = get(signature=sign(TOKEN, now, nonce), timestamp=now, nonce=nonce, echostr=echo)
    assert (ok.status_code, ok.text) == (200, echo)
    assert get(signature=sign("another", now, nonce), timestamp=now, nonce=nonce, echostr=echo).status_code == 403
    old = str(int(time.time()) - 3600)
    assert get(signature=sign(TOKEN, old, nonce), timestamp=old, nonce=nonce, echostr=echo).status_code == 403
    assert get(echostr=echo).status_code == 403
    bad = get(signature=sign(TOKEN, now, nonce), timestamp=now, nonce=nonce, echostr="<script>x</script>")
    assert bad.status_code == 400 and "<script>" not in bad.text


@pytest.mark.parametrize("mode", ["plain", "safe"])
def test_bad_signatures_are_refused_before_anything_is_handled(open_wechat, sqlite_url, mode):
    wx, services, _ = open_wechat(sqlite_url, mode=mode)
    xml = wx.text(USER, "你好")
    assert wx.post(xml, signature="0" * 40).status_code == 403
    old = str(int(time.time()) - 3600)
    assert wx.post(xml, timestamp=old).status_code == 403  # correctly signed, but ten minutes stale
    if mode == "safe":
        assert wx.post(xml, msg_signature="0" * 40).status_code == 403
        other_app = WeChatPusher(wx.http, token=TOKEN, app_id="wxsomeoneelse0001", aes_key=AES_KEY, mode="safe")
        assert other_app.post(xml).status_code == 403  # encrypted for another account
        plain = WeChatPusher(wx.http, token=TOKEN, app_id=APP_ID, mode="plain")
        assert plain.post(xml).status_code == 403  # safe mode takes no plaintext
    with services.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(InboundSeen)) == 0


def test_not_configured_is_404_and_a_bad_aes_key_is_503(sqlite_client, open_wechat, sqlite_url):
    assert sqlite_client.post("/wechat", content=b"<xml/>").status_code == 404
    wx, _, _ = open_wechat(sqlite_url, wechat_aes_key="too-short")
    assert wx.http.post("/wechat", content=b"<xml/>").status_code == 503


# --- message types ------------------------------------------------------------------------------------
def test_voice_uses_recognition_or_asks_for_text(open_wechat, sqlite_url):
    wx, services, _ = open_wechat(sqlite_url)
    heard = wx.reply(wx.post(wx.xml(USER, "voice", MediaId="VOICE1", Format="amr", Recognition="什么是非法集资",
                                    MsgId=wx.next_id())))
    assert services.knowledge.answer("definition").text.strip() in heard
    unheard = wx.reply(wx.post(wx.xml(USER, "voice", MediaId="VOICE2", Format="amr", MsgId=wx.next_id())))
    assert "打字" in unheard and "1. 帮我看看靠不靠谱" in unheard and "3. 什么是非法集资" in unheard
    assert services.knowledge.answer("definition").text.strip() in wx.say(USER, "3")  # the offered button works


def test_an_image_outside_a_tip_is_downloaded_and_gets_a_short_note(open_wechat, sqlite_url, api):
    wx, _, _ = open_wechat(sqlite_url)
    api.add_media("PHOTO-1", b"\xff\xd8\xff\xe0 a photo")
    note = wx.reply(wx.post(wx.xml(USER, "image", PicUrl="http://mmbiz.invalid/x", MediaId="PHOTO-1",
                                   MsgId=wx.next_id())))
    assert "我要举报" in note
    assert [c.query["media_id"] for c in api.calls("media/get")] == ["PHOTO-1"]
    lost = wx.reply(wx.post(wx.xml(USER, "image", PicUrl="http://mmbiz.invalid/y", MediaId="GONE",
                                   MsgId=wx.next_id())))
    assert "再发一次" in lost  # WeChat said 40007: a polite word, not an error page


PICTURE = ["朋友圈转发：艺术品份额认购，", "年化收益百分之三十，", "到期回购，保本保息，名额有限。"]


def test_a_picture_is_downloaded_read_and_checked_within_the_reply_budget(open_wechat, sqlite_url, api):
    wx, services, _ = open_wechat(sqlite_url, budget=8.0)  # a passive reply, however busy the test machine is
    api.add_media("FLYER-1", render(PICTURE, fmt="JPEG"))
    reply = wx.reply(wx.post(wx.xml(USER, "image", PicUrl="http://mmbiz.invalid/f", MediaId="FLYER-1",
                                    MsgId=wx.next_id())))
    typed = services.risk.analyse("\n".join(PICTURE))
    assert reply.startswith("我读了您发来的图片") and "【风险检查】" in reply and typed.flags
    assert all(f"「{f.phrase}」" in reply for f in typed.flags[:5])
    assert [c.query["media_id"] for c in api.calls("media/get")] == ["FLYER-1"]


def test_a_slow_reading_answers_success_then_a_customer_service_message(open_wechat, sqlite_url, api):
    wx, services, _ = open_wechat(sqlite_url, budget=0.05)  # OCR takes longer than this on any machine
    api.add_media("FLYER-2", render(PICTURE))
    response = wx.post(wx.xml(USER, "image", PicUrl="http://mmbiz.invalid/g", MediaId="FLYER-2",
                              MsgId=wx.next_id()))
    assert response.status_code == 200 and response.text == "success"
    sent = api.wait_for("message/custom/send", timeout=30)
    assert sent[0].body["touser"] == USER and "我读了您发来的图片" in sent[0].body["text"]["content"]


def test_a_shared_article_is_risk_checked_on_its_title_and_description(open_wechat, sqlite_url):
    wx, services, _ = open_wechat(sqlite_url)
    title, description = "养老公寓火热认购", "年化收益18%，保本保息，到期还本，介绍朋友再拿5%提成，名额有限"
    reply = wx.reply(wx.post(wx.xml(USER, "link", Title=title, Description=description,
                                    Url="https://mp.weixin.qq.invalid/s/abc", MsgId=wx.next_id())))
    report = services.risk.analyse(f"{title}\n{description}")
    assert report.flag_ids, "the sample must carry red flags"
    assert engine_text(services, f"{title}\n{description}", forwarded=True) in reply


PITCH = ("养老公寓火热认购，年化收益18%，保本保息，到期还本，介绍朋友再拿5%提成，名额有限，政府支持，央企背景，"
         "原始股马上上市，区块链数字货币，每天返利，拉人头奖励，签合同送鸡蛋，稳赚不赔，无风险高回报，内部消息，"
         "错过再等十年，慈善扶贫，消费返利，互助盘，会员积分升值，艺术品收藏升值，私募基金保底收益，合作社入股分红")


def test_a_long_answer_comes_in_pages_on_more_and_its_buttons_still_work(open_wechat, sqlite_url):
    wx, services, _ = open_wechat(sqlite_url)
    first = wx.reply(wx.post(wx.xml(USER, "link", Title="内部认购", Description=PITCH, Url="https://x.invalid/a",
                                    MsgId=wx.next_id())))
    assert len(first.encode("utf-8")) <= 2048 and "请回复数字选择：\n1. 我要举报\n2. 更多" in first
    assert engine_text(services, f"内部认购\n{PITCH}", forwarded=True) in first
    pages = [wx.say(USER, "2")]  # 2 = 更多: the whole check, which may take pages of its own
    while pages[-1].endswith("回复“更多”看下一段）"):
        pages.append(wx.say(USER, "更多"))
    assert all(len(p.encode("utf-8")) <= 2048 for p in pages)
    whole = "\n".join(p.removesuffix("\n（内容较长，回复“更多”看下一段）") for p in pages)
    assert "【依据】" in whole and "稳赚不赔" in whole and "3. 我要举报" in pages[-1]
    started = wx.say(USER, "3")  # 3 = 我要举报: the tip flow starts, offering the checked text to confirm
    assert "您刚才说的情况" in started and "内部认购" in started
    assert "县区" in wx.say(USER, "1")  # 1 = 对: then the county is asked


@pytest.mark.parametrize("msg_type,fields", [
    ("video", {"MediaId": "V1", "ThumbMediaId": "T1"}),
    ("shortvideo", {"MediaId": "V2", "ThumbMediaId": "T2"}),
    ("location", {"Location_X": "32.68", "Location_Y": "109.02", "Scale": "15", "Label": "某地"}),
    ("file", {"Title": "a.pdf", "FileKey": "k"}),
    ("weird_new_type", {}),
])
def test_unknown_message_types_get_a_polite_reply(open_wechat, sqlite_url, msg_type, fields):
    wx, _, _ = open_wechat(sqlite_url)
    reply = wx.reply(wx.post(wx.xml(USER, msg_type, **fields, MsgId=wx.next_id())))
    assert reply and "文字" in reply


# --- events and the menu ------------------------------------------------------------------------------
def test_subscribe_welcomes_runs_the_subscribe_flow_and_unsubscribe_stops_at_once(open_wechat, sqlite_url):
    wx, services, _ = open_wechat(sqlite_url)
    welcome = wx.reply(wx.post(wx.event(USER, "subscribe")))
    assert welcome.startswith("欢迎关注") and "\n1. 老年人及家属" in welcome
    county = wx.say(USER, "1")  # the number maps back to the first button: 老年人及家属
    assert "县区" in county and "1. 全市都要" in county
    done = wx.say(USER, "1")
    assert "老年人及家属" in done and "全市" in done
    key = services.engine.conversation_key(Inbound(channel="wechat", user=USER))
    with services.uow() as uow:
        sub = uow.session.scalars(select(Subscriber)).one()
        assert (sub.key, sub.channel, sub.audience, sub.county, sub.opted_in) == (key, "wechat", "elderly", None, True)
        assert USER not in sub.sealed_chat_id
    gone = wx.post(wx.event(USER, "unsubscribe"))
    assert gone.text == "success"
    with services.uow() as uow:
        assert uow.session.scalars(select(Subscriber)).one().opted_in is False


def test_every_menu_item_leads_where_the_menu_file_says(open_wechat, sqlite_url):
    wx, services, _ = open_wechat(sqlite_url)
    menu = Menu.load(REPO / "content" / "wechat_menu.yaml")
    assert len(menu.items) <= 3 and {i.name for i in menu.clickable()} >= {"订阅提醒", "查宣传靠不靠谱"}
    for n, item in enumerate(menu.clickable()):
        turn = services.engine.handle(Inbound(channel="web", user=f"menu-{n}", text=item.text))
        assert turn.topic == item.topic, item
        user = f"oMenuUser{n:04d}"
        reply = wx.reply(wx.post(wx.event(user, "CLICK", item.key)))
        assert turn.replies[0].text.strip() in reply
    unknown = wx.reply(wx.post(wx.event("oMenuUserOld", "CLICK", "AN_OLD_KEY")))
    assert engine_text(services, menu.fallback, user="menu-fallback") in unknown


def test_other_events_are_acknowledged_silently(open_wechat, sqlite_url):
    wx, _, _ = open_wechat(sqlite_url)
    for event in ("VIEW", "LOCATION", "SCAN", "TEMPLATESENDJOBFINISH"):
        assert wx.post(wx.event(USER, event, "x", created=int(time.time()) + len(event))).text == "success"


# --- hostile input ------------------------------------------------------------------------------------
BILLION_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
                            for i in range(1, 10))
                  + ']><xml><ToUserName>gh_x</ToUserName><FromUserName>oX</FromUserName><CreateTime>1</CreateTime>'
                  "<MsgType>text</MsgType><Content>&lol9;</Content><MsgId>1</MsgId></xml>")
XXE = ('<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
       "<xml><ToUserName>gh_x</ToUserName><FromUserName>oX</FromUserName><CreateTime>1</CreateTime>"
       "<MsgType>text</MsgType><Content>&xxe;</Content><MsgId>2</MsgId></xml>")


@pytest.mark.parametrize("mode", ["plain", "safe"])
def test_xml_attacks_are_refused_quickly_with_400(open_wechat, sqlite_url, mode):
    wx, _, _ = open_wechat(sqlite_url, mode=mode)
    for attack in (BILLION_LAUGHS, XXE, BILLION_LAUGHS.replace("DOCTYPE", "doctype")):
        started = time.monotonic()
        response = wx.post(attack)  # signed (and in safe mode encrypted) as WeChat would: only the XML is bad
        assert response.status_code == 400, response.text
        assert "root:" not in response.text and time.monotonic() - started < 1.0


def test_malformed_bodies_are_400_never_500(open_wechat, sqlite_url):
    wx, _, _ = open_wechat(sqlite_url)
    bodies = ["", "not xml", "<xml><ToUserName>", "<xml>text</xml>", "<other><a>1</a></other>",
              wx.xml("", "text", Content="x"), wx.xml(USER, "text", Content="x", MsgId="12ab"),
              "<xml><FromUserName>oX</FromUserName></xml>",
              wx.text(USER, "x").replace("<CreateTime>", "<CreateTime>soon")]
    for body in bodies:
        query, raw = wx.request(body)
        response = wx.http.post("/wechat", params=query, content=raw)
        assert response.status_code == 400 and response.json()["error"], body
    query, _ = wx.request("")
    assert wx.http.post("/wechat", params=query, content=b"<xml>\xff\xfe</xml>").status_code == 400
    # well-formed but odd: an element where text belongs is read as no text, and answered politely
    nested = wx.text(USER, "x").replace("<Content><![CDATA[x]]></Content>", "<Content><a>1</a></Content>")
    assert wx.reply(wx.post(nested))


def test_a_safe_mode_message_that_does_not_decrypt_is_400(open_wechat, sqlite_url):
    wx, _, _ = open_wechat(sqlite_url, mode="safe")
    now, nonce, garbage = str(int(time.time())), "42", base64.b64encode(b"x" * 40).decode()
    body = f"<xml><ToUserName>gh_x</ToUserName><Encrypt><![CDATA[{garbage}]]></Encrypt></xml>".encode()
    query = {"signature": sign(TOKEN, now, nonce), "timestamp": now, "nonce": nonce, "encrypt_type": "aes",
             "msg_signature": sign(TOKEN, now, nonce, garbage)}
    assert wx.http.post("/wechat", params=query, content=body).status_code == 400


def test_oversize_bodies_are_413(open_wechat, sqlite_url):
    wx, _, _ = open_wechat(sqlite_url)
    big = wx.text(USER, "好" * 30_000)  # 90 KB: under the app's limit, over a WeChat message's
    assert wx.post(big).status_code == 413
    assert wx.post(wx.text(USER, "好" * 100_000)).status_code == 413  # over the app's limit
    query, raw = wx.request(big)
    chunked = wx.http.post("/wechat", params=query, content=iter([raw[i:i + 8192] for i in range(0, len(raw), 8192)]))
    assert chunked.status_code == 413  # no Content-Length: counted while reading


def test_a_reply_that_quotes_cdata_end_stays_well_formed(open_wechat, sqlite_url):
    from bot.channels.wechat.protocol import Envelope, WeChatMessage, WeChatProtocol

    wx, _, _ = open_wechat(sqlite_url, mode="safe")
    msg = WeChatMessage("text", USER, wx.account, "1")
    protocol = WeChatProtocol(TOKEN, APP_ID, AES_KEY)
    xml, _ = protocol.reply(msg, "a]]><evil/>b\x00c", Envelope(True, str(int(time.time())), "7"))

    class Response:
        status_code, text = 200, xml

    assert wx.reply(Response) == "a]]><evil/>bc"
