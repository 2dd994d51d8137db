"""The Telegram channel in webhook mode: updates as Telegram posts them to /telegram; replies at a fake Bot API."""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.messages import Inbound
from bot.store.models import Conversation, RateEvent, Subscriber, TipSeal
from bot.tips.ciphers import CHAT_IDS, use_cipher
from bot.tips.flow import PROMPTS
from bot.tips.keys import DEV_PASSPHRASE, unlock
from tests.conftest import free_port
from tests.fakes.pictures import render
from tests.fakes.telegram_api import BOT, GROUP, USER, FakeTelegram, Updates
from webhook.app import create_app

TOKEN = "123456:TEST-token"
SECRET = "tg-test-secret_1"
HEADER = "X-Telegram-Bot-Api-Secret-Token"
RECEIPT = re.compile(r"[2-9A-Z]{5}(?:-[2-9A-Z]{5}){3}")
CHAT = USER["id"]




def _app(make_services, url: str, tg: FakeTelegram):  # type: ignore[no-untyped-def]
    svc = make_services(url, telegram_token=TOKEN, telegram_api_base=tg.base_url, telegram_webhook_secret=SECRET)
    return svc, TestClient(create_app(services=svc), raise_server_exceptions=False)


@pytest.fixture
def bot(make_services, sqlite_url, tg):  # type: ignore[no-untyped-def]
    """(client, services) on SQLite, the Telegram Application started by the app's lifespan."""
    svc, client = _app(make_services, sqlite_url, tg)
    with client:
        yield client, svc
    svc.db.dispose()


@pytest.fixture
def bot_any_db(make_services, db_url, tg):  # type: ignore[no-untyped-def]
    svc, client = _app(make_services, db_url, tg)
    with client:
        yield client, svc
    svc.db.dispose()


def post(client: TestClient, update: object, secret: str | None = SECRET):  # type: ignore[no-untyped-def]
    return client.post("/telegram", json=update, headers={HEADER: secret} if secret is not None else {})


def send(client: TestClient, update: dict) -> None:
    response = post(client, update)
    assert response.status_code == 200, response.text


def last(tg: FakeTelegram, chat: int = CHAT):  # type: ignore[no-untyped-def]
    return [c for c in tg.calls("sendMessage") if str(c.params["chat_id"]) == str(chat)][-1]


def labels(call) -> list[str]:  # type: ignore[no-untyped-def]
    markup = call.params.get("reply_markup") or {}
    return [b["text"] for row in markup.get("inline_keyboard", []) for b in row]


# -- plain messages and commands --------------------------------------------------------------------
def test_a_question_is_answered_like_on_the_web_with_buttons(bot, tg):
    client, _ = bot
    send(client, Updates().message("什么是非法集资？"))
    web = client.post("/api/chat", json={"user": "web-1", "text": "什么是非法集资？"}).json()
    call = last(tg)
    assert call.params["text"] == web["replies"][0]["text"]
    assert labels(call) == web["replies"][0]["buttons"] and labels(call)
    assert call.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "b0"


def test_start_welcomes_and_offers_subscription_then_buttons_subscribe(bot, tg):
    client, svc = bot
    u = Updates()
    send(client, u.command("/start"))
    texts = tg.texts(CHAT)
    assert "防范非法集资" in texts[0] and len(texts) == 2
    offer = last(tg)
    assert "老年人及家属" in labels(offer) and labels(offer)[-1] == "取消"
    send(client, u.press(offer, "老年人及家属"))
    assert [c.params["callback_query_id"] for c in tg.calls("answerCallbackQuery")]
    county = last(tg)
    assert "县区" in county.params["text"]
    send(client, u.press(county, "全市都要"))
    assert "订阅好了" in last(tg).params["text"]
    with svc.uow() as uow:
        sub = uow.session.scalars(select(Subscriber)).one()
        assert (sub.channel, sub.audience, sub.opted_in) == ("telegram", "elderly", True)
        chat_ids = use_cipher(svc.settings.secret_key, CHAT_IDS)
        assert str(CHAT) not in sub.sealed_chat_id and chat_ids.decrypt_json(sub.sealed_chat_id) == str(CHAT)
    send(client, u.command("/start"))
    assert "欢迎回来" in tg.texts(CHAT)[-2]
    send(client, u.command("/unsubscribe"))
    with svc.uow() as uow:
        assert uow.session.scalars(select(Subscriber)).one().opted_in is False


def test_commands_map_to_the_engine(bot, tg):
    client, svc = bot
    u = Updates()
    send(client, u.command("/report"))
    assert PROMPTS["region"] in last(tg).params["text"]
    send(client, u.command("/status"))  # a command while a tip is open: the tip is cancelled first
    texts = tg.texts(CHAT)
    assert "已取消" in texts[-2] and "回执码" in texts[-1]
    send(client, u.command("/status ABCDE-FGHJK-MNPQR-STVWX"))
    assert "没有查到" in last(tg).params["text"]
    send(client, u.command("/cancel"))
    assert "没有正在办的事" in last(tg).params["text"]
    send(client, u.command("/help"))
    assert "/report" in tg.texts(CHAT)[-1] and "自动回复" in tg.texts(CHAT)[-2]
    send(client, u.command("/nonsense"))
    assert "没有这个命令" in last(tg).params["text"]
    send(client, u.command("/start report"))  # the private-chat link from a group: straight to the tip
    assert PROMPTS["region"] in last(tg).params["text"]


@pytest.mark.asyncio
async def test_check_and_forwards_go_to_the_risk_check(bot, tg):
    client, svc = bot
    pitch = "朋友圈看到的：本项目国家支持，年化收益18%，保本保息，介绍一人奖励500元"
    expected = (await svc.turns.handle(Inbound(channel="web", user="cmp", text=pitch, forwarded=True))).replies[0]
    send(client, Updates().command(f"/check {pitch}"))
    assert last(tg).params["text"] == expected.text
    send(client, Updates(600000).forwarded(pitch))
    assert last(tg).params["text"] == expected.text
    plain = "你好呀"
    send(client, Updates(700000).forwarded(plain))
    as_question = (await svc.turns.handle(Inbound(channel="web", user="cmp2", text=plain))).replies[0]
    assert last(tg).params["text"] != as_question.text  # forwarded: checked, not answered as a question


def test_a_photo_outside_a_tip_is_fetched_with_get_file_and_read(bot, tg):
    client, svc = bot
    lines = ["内部消息：数字货币矿机认购，", "日收益百分之一，保本保息，", "拉人头奖励百分之十。"]
    file_id, u = tg.add_file(render(lines, fmt="JPEG")), Updates()
    send(client, u.photo(file_id, 40000))
    assert len(tg.calls("getFile")) == 1
    intro, verdict = [c.params["text"] for c in tg.calls("sendMessage")][-2:]  # two messages: read, then checked
    typed = svc.risk.analyse("\n".join(lines))
    assert intro.startswith("我读了您发来的图片") and typed.flags and verdict.startswith("【风险检查】")
    assert all(f"「{f.phrase}」" in intro for f in typed.flags[:5])  # the check ran on what the photo says
    unreadable = tg.add_file(b"\xff\xd8 not a picture")
    send(client, u.photo(unreadable, 2000))
    assert "没认出上面的文字" in last(tg).params["text"]


def test_unsubscribe_command_inside_a_tip_keeps_the_tip_and_asks(bot, tg):
    client, svc = bot
    u = Updates()
    for text in ("/subscribe", "老年人及家属", "汉滨区", "/report", "汉阴县"):
        send(client, u.command(text) if text.startswith("/") else u.message(text))
    send(client, u.command("/unsubscribe"))
    asked = last(tg)
    assert "已为您退订" in asked.params["text"] and "取消" in labels(asked)
    with svc.sessions() as session:
        sub = session.scalars(select(Subscriber)).one()
        row = session.scalars(select(Conversation)).one()
    assert sub.opted_in is False and (row.flow, row.step) == ("tip", "subject")


def test_voice_and_stale_buttons_get_a_polite_answer(bot, tg):
    client, _ = bot
    u = Updates()
    send(client, u.message("", voice={"file_id": "v1", "file_unique_id": "v1u", "duration": 3}))
    assert "文字和图片" in last(tg).params["text"]
    stale = u.press(type("C", (), {"params": {"chat_id": CHAT, "text": "旧消息", "reply_markup": {
        "inline_keyboard": [[{"text": "我要举报", "callback_data": "b0"}]]}}})(), "我要举报")
    stale["callback_query"]["data"] = "b7"  # no longer under that message
    tg.fail("answerCallbackQuery", 400, description="Bad Request: query is too old")
    send(client, stale)
    assert "过期" in last(tg).params["text"] and tg.calls("answerCallbackQuery")


# -- a whole tip, with a photo --------------------------------------------------------------------------
def _slot(text: str) -> str:
    return "confirm" if "请核对" in text else next(k for k, p in PROMPTS.items() if p in text)


def test_a_whole_tip_with_a_photo_is_sealed_and_a_receipt_returned(bot_any_db, tg, db_url, tmp_path):
    client, svc = bot_any_db
    u = Updates()
    photo = b"\xff\xd8\xff\xe0" + os.urandom(3000)
    answers = {"subject": "鑫盛祥瑞农业合作社",
               "description": "他们在村里开会宣传，每月返息三分，保本保息，拉人头再奖励",
               "amount": "大概三十万", "participants": "三十多人", "contact": "匿名", "confirm": "确认"}
    send(client, u.command("/report"))
    for _ in range(12):
        call = last(tg)
        slot = _slot(call.params["text"])
        if slot == "region":
            send(client, u.press(call, svc.offices.counties[0].area))
        elif slot == "evidence":
            send(client, u.photo(tg.add_file(photo), len(photo), caption="传单"))
            assert "收到第1张图片" in last(tg).params["text"]
            send(client, u.message("好了"))
        else:
            send(client, u.message(answers[slot]))
        if slot == "confirm":
            break
    final = last(tg).params["text"]
    receipt = RECEIPT.search(final)
    assert receipt is not None, final
    assert len(tg.calls("getFile")) == 1 and tg.state.counts["_download"] == 1
    with svc.uow() as uow:
        assert svc.tips.find(uow.session, receipt.group(0)) is not None
        seals = uow.session.scalars(select(TipSeal).where(TipSeal.part == "evidence")).all()
        key = unlock(uow.session, seals[0].office_code, DEV_PASSPHRASE)
        assert base64.b64decode(key.open_json(seals[0].ciphertext)["data"]) == photo
        identity = next(s for s in uow.session.scalars(select(TipSeal)) if s.part == "identity")
        assert key.open_json(identity.ciphertext)["chat_id"] == str(CHAT)
    if db_url.startswith("sqlite"):
        stored = b"".join(p.read_bytes() for p in Path(db_url.removeprefix("sqlite:///")).parent.glob("*.db*"))
        assert photo[4:] not in stored and base64.b64encode(photo[4:])[:40] not in stored
        assert str(CHAT).encode() not in stored and answers["subject"].encode() not in stored


# -- groups --------------------------------------------------------------------------------------------
def test_group_messages_need_a_mention_or_a_reply(bot, tg):
    client, _ = bot
    u = Updates()
    send(client, u.message("什么是非法集资", chat=GROUP))
    assert tg.calls("sendMessage") == []
    send(client, u.mention("什么是非法集资"))
    answer = last(tg, GROUP["id"])
    assert answer.params["reply_parameters"]["message_id"] == u.message_id
    bot_msg = {"message_id": 77, "date": 1, "chat": GROUP, "from": BOT, "text": "…"}
    send(client, u.message("那怎么识别呢", chat=GROUP, reply_to_message=bot_msg))
    assert len(tg.texts(GROUP["id"])) == 2
    send(client, u.command("/help@someone_else_bot", chat=GROUP))
    assert len(tg.texts(GROUP["id"])) == 2


@pytest.mark.parametrize("said", ["我要举报 张大伟的公司收了我们全村的钱", "/report", "订阅防骗提醒",
                                  "查询 ABCDE-FGHJK-MNPQR-STVWX"])
def test_no_tip_subscription_or_receipt_in_a_group(bot, tg, said):
    client, svc = bot
    u = Updates()
    update = u.command(said + "@" + BOT["username"], chat=GROUP) if said.startswith("/") else u.mention(said)
    send(client, update)
    calls = [c for c in tg.calls("sendMessage") if str(c.params["chat_id"]) == str(GROUP["id"])]
    assert len(calls) == 1
    reply = calls[0].params
    assert "私聊" in reply["text"] and "reply_parameters" not in reply
    assert reply["reply_markup"]["inline_keyboard"][0][0]["url"].startswith("https://t.me/" + BOT["username"])
    for word in re.findall(r"[\u4e00-\u9fff]{2,}|[A-Z]{5}", said):
        assert word not in reply["text"] or word in ("举报", "订阅")
    with svc.uow() as uow:
        assert all(c.flow is None for c in uow.session.scalars(select(Conversation)))
        assert uow.session.scalars(select(Subscriber)).all() == []
        assert uow.session.scalars(select(RateEvent)).all() == []  # not even a receipt look-up was tried


def test_a_private_tip_does_not_surface_in_a_group(bot, tg):
    client, _ = bot
    u = Updates()
    send(client, u.command("/report"))
    send(client, u.mention("什么是非法集资"))  # the same person, in a group, mid-tip
    in_group = last(tg, GROUP["id"]).params["text"]
    assert not any(prompt in in_group for prompt in PROMPTS.values())
    send(client, u.message("跳过"))  # the private tip is still waiting for its region
    assert PROMPTS["subject"] in last(tg).params["text"]


# -- the webhook's edges -------------------------------------------------------------------------------
def test_wrong_or_missing_secret_is_403(bot, tg):
    client, _ = bot
    update = Updates().message("你好")
    assert post(client, update, secret="wrong").status_code == 403
    assert post(client, update, secret=None).status_code == 403
    assert tg.calls("sendMessage") == []


def test_a_duplicate_update_is_handled_once(bot_any_db, tg):
    client, _ = bot_any_db
    update = Updates().message("什么是非法集资")
    send(client, update)
    send(client, update)
    assert len(tg.calls("sendMessage")) == 1


@pytest.mark.parametrize("body,status", [
    (b"{not json", 400), (b"\xff\xfe", 400), (b"[1, 2]", 422), (b'{"update_id": "7"}', 422),
    (b'{"update_id": true}', 422), (b'{"update_id": 9, "message": "hi"}', 422),
    (b'{"update_id": 10, "message": {"text": "no date or chat"}}', 422),
    (b'{"update_id": 11, "callback_query": {"id": "1"}}', 422),
])
def test_malformed_bodies_get_a_4xx(bot, tg, body, status):
    client, _ = bot
    response = client.post("/telegram", content=body, headers={HEADER: SECRET, "content-type": "application/json"})
    assert response.status_code == status and "error" in response.json()


def test_unknown_update_kinds_are_acknowledged_silently_and_big_bodies_refused(bot, tg):
    client, _ = bot
    assert post(client, {"update_id": 12, "poll": {"id": "p"}}).status_code in (200, 422)
    assert post(client, {"update_id": 13}).status_code == 200
    huge = Updates().message("长" * 200_000)
    assert post(client, huge).status_code == 413
    assert tg.calls("sendMessage") == []


def test_not_configured_is_404(sqlite_client):
    response = sqlite_client.post("/telegram", json={"update_id": 1}, headers={HEADER: "x"})
    assert response.status_code == 404


def test_blocking_and_unblocking_marks_the_subscriber(bot, tg):
    client, svc = bot
    u = Updates()
    for text in ("订阅防骗提醒", "老年人", "全市都要"):
        send(client, u.message(text))
    send(client, u.member("kicked"))
    with svc.uow() as uow:
        sub = uow.session.scalars(select(Subscriber)).one()
        assert (sub.reachable, sub.last_error) == (False, "blocked")
    send(client, u.member("member"))
    with svc.uow() as uow:
        assert uow.session.scalars(select(Subscriber)).one().reachable is True


# -- start-up ------------------------------------------------------------------------------------------
def test_the_app_wires_services_then_starts_telegram(tg, nlu_data_dir_path, embedded_nlu, sqlite_url):
    from bot.settings import Settings

    settings = Settings(environment="test", data_dir=nlu_data_dir_path, database_url=sqlite_url, kdf_strength="min",
                        secret_key="t" * 40, telegram_token=TOKEN, telegram_api_base=tg.base_url)
    app = create_app(settings)  # services are made in the app's lifespan, before the router's
    with TestClient(app, raise_server_exceptions=False) as client:
        assert app.state.telegram.ready and tg.calls("getMe")
        derived = app.state.telegram.secret  # no secret configured: one derived from the app secret
        assert len(derived) >= 32 and post(client, Updates().message("你好"), secret=derived).status_code == 200
        assert tg.texts(CHAT)
    assert app.state.telegram is None
    app.state.services.db.dispose()


def test_the_app_starts_when_telegram_is_unreachable(make_services, sqlite_url):
    closed = free_port()
    svc = make_services(sqlite_url, telegram_token=TOKEN, telegram_api_base=f"http://127.0.0.1:{closed}/bot",
                        telegram_webhook_secret=SECRET)
    with TestClient(create_app(services=svc), raise_server_exceptions=False) as client:
        assert client.get("/healthz").status_code == 200
        response = post(client, Updates().message("你好"))
        assert response.status_code == 503 and response.headers["retry-after"] == "5"
    svc.db.dispose()
