"""The tip line through /api/chat: intake, sealing, receipts, additions — on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select, text

from bot.store.models import Conversation, Tip, TipSeal
from bot.tips.keys import DEV_PASSPHRASE, unlock
from tests.integration.test_chat_api import say

COMPANY = "鑫盛祥瑞农业合作社"
PERSON = "王德福"
PHONE = "13912345678"
DETAIL = "每月返息三分保本保息拉人头再奖励"


def file_tip(client, user: str, *, contact: str = "匿名", region: str = "石泉县") -> dict:
    body = say(client, user, "我要举报")
    assert body["topic"] == "report_start" and body["expects"] == "region"
    assert "加密" in body["replies"][0]["text"] and "实名" in body["replies"][0]["text"]
    assert say(client, user, region)["expects"] == "subject"
    assert say(client, user, f"{COMPANY}，负责人叫{PERSON}")["expects"] == "description"
    assert say(client, user, f"他们在村里开会宣传，{DETAIL}")["expects"] == "amount"
    assert say(client, user, "大概三十万")["expects"] == "participants"
    assert say(client, user, "跳过")["expects"] == "evidence"
    assert say(client, user, "有传单，在村委会门口贴着")["expects"] == "contact"
    body = say(client, user, contact)
    assert body["expects"] == "confirm"
    assert PHONE not in body["replies"][0]["text"]  # the summary masks the phone number
    body = say(client, user, "确认")
    assert body["expects"] is None and body["receipt"]
    assert body["receipt"] in body["replies"][0]["text"]
    return body


def test_anonymous_tip_is_filed_sealed_and_routed(client, services):
    body = file_tip(client, "tipster-1")
    assert re.fullmatch(r"[2-9A-Z]{5}(-[2-9A-Z]{5}){3}", body["receipt"])
    with services.uow() as uow:
        tip = uow.session.scalars(select(Tip)).one()
        assert (tip.office_code, tip.urgent, tip.real_name, tip.category) == ("shiquan", False, False, "agri_coop")
        assert "guaranteed_principal" in tip.flags
        seals = uow.session.scalars(select(TipSeal).where(TipSeal.tip_id == tip.id)).all()
        assert {s.office_code for s in seals} == {"shiquan"}
        key = unlock(uow.session, "shiquan", DEV_PASSPHRASE)
        content = key.open_json(next(s.ciphertext for s in seals if s.part == "content"))
        assert COMPANY in content["subject"] and DETAIL in content["description"]
        assert content["amount"] == 300_000
        identity = key.open_json(next(s.ciphertext for s in seals if s.part == "identity"))
        assert identity == {"contact": "匿名", "channel": "web", "chat_id": "tipster-1", "handle": tip.handle}
        # the draft is erased from the conversation once filed
        assert all(c.sealed is None for c in uow.session.scalars(select(Conversation)))


def test_real_name_tip_keeps_contact_sealed(client, services):
    file_tip(client, "tipster-2", contact=f"{PERSON} {PHONE}")
    with services.uow() as uow:
        tip = uow.session.scalars(select(Tip)).one()
        assert tip.real_name is True
        seal = uow.session.scalars(select(TipSeal).where(TipSeal.part == "identity")).one()
        identity = unlock(uow.session, "shiquan", DEV_PASSPHRASE).open_json(seal.ciphertext)
        assert PHONE in identity["contact"]


def test_slots_typed_early_are_not_asked_again(client, services):
    body = say(client, "early-1", "我要举报石泉县有个合作社在搞集资，一百多万，两百多个人投了钱")
    assert body["topic"] == "report_start" and body["expects"] == "subject"
    # the first message told what they do: it is the description, shown in the summary to confirm
    assert say(client, "early-1", "石泉某某合作社")["expects"] == "evidence"
    assert say(client, "early-1", "跳过")["expects"] == "contact"
    assert say(client, "early-1", "匿名")["expects"] == "confirm"
    body = say(client, "early-1", "确认")
    assert body["receipt"]
    with services.uow() as uow:
        tip = uow.session.scalars(select(Tip)).one()
        # ≥ 1,000,000 yuan and ≥ 150 people: urgent, sealed to the county and the city
        assert tip.office_code == "shiquan" and tip.urgent
        offices = {s.office_code for s in uow.session.scalars(select(TipSeal).where(TipSeal.part == "content"))}
        assert offices == {"shiquan", "ankang"}


def test_money_typed_where_the_head_count_is_asked_is_taken_as_the_amount(client, services):
    say(client, "money-1", "我要举报")
    say(client, "money-1", "汉阴县")
    say(client, "money-1", "某某养老服务中心")
    # one person's stake (投五万) is not the amount of the case: the amount is still asked
    assert say(client, "money-1", "他们说投五万每个月返两千，拉人还有提成")["expects"] == "amount"
    assert say(client, "money-1", "跳过")["expects"] == "participants"
    body = say(client, "money-1", "一共三十万")
    assert body["expects"] == "participants" and "人数" not in body["replies"][0]["text"]
    assert "多少人" in body["replies"][0]["text"]
    assert say(client, "money-1", "二十多个")["expects"] == "evidence"
    say(client, "money-1", "跳过")
    body = say(client, "money-1", "匿名")
    assert "20人" in body["replies"][0]["text"] or "二十多个" in body["replies"][0]["text"]
    assert say(client, "money-1", "确认")["receipt"]
    with services.uow() as uow:
        tip = uow.session.scalars(select(Tip)).one()
        seal = uow.session.scalars(select(TipSeal).where(TipSeal.part == "content")).first()
        content = unlock(uow.session, tip.office_code, DEV_PASSPHRASE).open_json(seal.ciphertext)
        assert (content["amount"], content["participants"]) == (300_000, 20)


def test_flight_signs_make_a_tip_urgent_and_unknown_places_go_to_the_city(client, services):
    say(client, "urgent-1", "我要举报")
    say(client, "urgent-1", "北京朝阳区")
    say(client, "urgent-1", "某某理财公司")
    say(client, "urgent-1", "老板昨天跑路了，门店关门，电话也失联")
    for _ in range(3):
        say(client, "urgent-1", "跳过")
    say(client, "urgent-1", "匿名")
    assert say(client, "urgent-1", "确认")["receipt"]
    with services.uow() as uow:
        tip = uow.session.scalars(select(Tip)).one()
        assert tip.office_code == "ankang" and tip.urgent


def test_cancel_discards_everything_typed(client, services):
    say(client, "cancel-1", "我要举报")
    say(client, "cancel-1", "汉滨区")
    say(client, "cancel-1", COMPANY)
    with services.uow() as uow:
        assert uow.session.scalars(select(Conversation)).one().sealed  # the draft exists, encrypted
    body = say(client, "cancel-1", "取消")
    assert body["expects"] is None and "删除" in body["replies"][0]["text"]
    with services.uow() as uow:
        assert uow.session.scalars(select(Conversation)).one().sealed is None
        assert uow.session.scalars(select(Tip)).first() is None


def test_status_by_receipt_from_another_user_and_adding_information(client, services):
    receipt = file_tip(client, "tipster-3")["receipt"]
    body = say(client, "someone-else", f"查询 {receipt.lower().replace('-', ' ')}")
    assert body["topic"] == "report_status" and "新收到" in body["replies"][0]["text"]
    assert "补充材料" in body["replies"][0]["buttons"]
    say(client, "someone-else", "补充材料")
    body = say(client, "someone-else", "他们下周要在镇上开推介会")
    assert "已补充" in body["replies"][0]["text"]
    with services.uow() as uow:
        tip = uow.session.scalars(select(Tip)).one()
        addition = uow.session.scalars(select(TipSeal).where(TipSeal.part == "addition")).one()
        opened = unlock(uow.session, "shiquan", DEV_PASSPHRASE).open_json(addition.ciphertext)
        assert "推介会" in opened["text"]
        services.tips.relay_reply(uow.session, tip, "请问传单上的电话是多少？", actor="staff-1")
        uow.commit()
    body = say(client, "third-person", f"查询{receipt}")
    assert "请问传单上的电话是多少" in body["replies"][0]["text"]
    body = say(client, "fourth-person", f"查询{receipt}")  # not yet seen: shown again, on any chat
    assert "请问传单上的电话是多少" in body["replies"][0]["text"] and "我看到了" in body["replies"][0]["buttons"]
    with services.uow() as uow:  # a message written between that check and "seen" is not marked seen
        services.tips.relay_reply(uow.session, uow.session.scalars(select(Tip)).one(), "还有收据吗？", "staff-1")
        uow.commit()
    assert "不再显示" in say(client, "fourth-person", "我看到了")["replies"][0]["text"]
    body = say(client, "third-person", f"查询{receipt}")
    assert "请问传单" not in body["replies"][0]["text"] and "还有收据吗" in body["replies"][0]["text"]


def test_wrong_codes_are_rate_limited_and_reveal_nothing(client):
    answers = set()
    for i in range(5):
        body = say(client, "guesser", f"查询 ABCDE-FGHJK-MNPQR-STVW{'XYZ23'[i]}")
        answers.add(body["replies"][0]["text"])
    assert len(answers) == 1 and "没有查到" in answers.pop()
    body = say(client, "guesser", "查询 ABCDE-FGHJK-MNPQR-STVW4")
    assert "太多" in body["replies"][0]["text"]


def test_tips_are_rate_limited_per_person_with_a_clear_message(make_services, db_url):
    from fastapi.testclient import TestClient

    from webhook.app import create_app

    svc = make_services(db_url, tips_per_day=1)
    with TestClient(create_app(services=svc)) as c:
        file_tip(c, "busy-1")
        body = say(c, "busy-1", "我要举报")
        assert body["expects"] is None and "明天" in body["replies"][0]["text"]
    svc.db.dispose()


def test_no_tip_in_group_chats(services):

    from bot.messages import Inbound

    turn = services.engine.handle(
        Inbound(channel="telegram", user="g1", text=f"我要举报{COMPANY}", private=False))
    assert turn.expects is None and "私聊" in turn.replies[0].text and COMPANY not in turn.replies[0].text


def test_a_tip_open_in_private_does_not_move_on_from_a_group(services):

    from bot.messages import Inbound

    def send(text: str, private: bool):  # type: ignore[no-untyped-def]
        return services.engine.handle(Inbound(channel="wechat", user="p1", text=text, private=private))

    assert send("我要举报", True).expects == "region"
    group = send("石泉县", False)
    assert group.expects is None and "私聊" in group.replies[0].text and "石泉" not in group.replies[0].text
    assert send("石泉县", True).expects == "subject"  # the private flow is where it was


def _dump_postgres(url: str) -> bytes:
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    u = make_url(url)
    if shutil.which("pg_dump"):
        out = subprocess.run(["pg_dump", "-h", u.host or "127.0.0.1", "-p", str(u.port or 5432),
                              "-U", u.username or "postgres", "--data-only", u.database or ""],
                             capture_output=True, check=True)
        return out.stdout
    engine = create_engine(url)
    chunks = []
    with engine.connect() as conn:
        for table in ("conversations", "subscribers", "offices", "tips", "tip_seals", "tip_events",
                      "audit_log", "rate_events"):
            chunks += [repr(tuple(row)).encode() for row in conn.execute(text(f"select * from {table}"))]
    engine.dispose()
    return b"\n".join(chunks)


def test_no_marker_in_the_database_the_data_folder_or_the_log(client, services, db_url, caplog, tmp_path):
    caplog.set_level(logging.DEBUG)
    file_tip(client, "marker-1", contact=f"{PERSON} {PHONE}")
    say(client, "marker-2", "我要举报")
    say(client, "marker-2", "紫阳县")
    say(client, "marker-2", f"{COMPANY}二分店")  # a draft left half-written
    from bot.logs import JsonFormatter

    fmt = JsonFormatter()
    log_text = "\n".join(fmt.format(r) + r.getMessage() for r in caplog.records).encode()
    if db_url.startswith("sqlite"):
        blobs = [p.read_bytes() for p in Path(tmp_path).rglob("*") if p.is_file()]
    else:
        blobs = [_dump_postgres(db_url)] + [p.read_bytes() for p in Path(tmp_path).rglob("*") if p.is_file()]
    assert log_text, "the log should have captured the turns"
    for marker in (COMPANY, PERSON, PHONE, DETAIL, "marker-1", "marker-2"):
        for encoded in {marker.encode("utf-8"), marker.encode("utf-16-le"), marker.encode("gb18030")}:
            assert encoded not in log_text, f"{marker} in the log"
            for blob in blobs:
                assert encoded not in blob, f"{marker} found at rest"


@pytest.mark.parametrize("wrong", ["another-passphrase"])
def test_a_wrong_passphrase_cannot_open_an_office_key(services, wrong):
    from bot.tips.sealing import WrongPassphrase

    with services.uow() as uow, pytest.raises(WrongPassphrase):
        unlock(uow.session, "hanbin", wrong)


def test_without_any_office_key_a_tip_is_kept_as_a_draft_not_stored(make_services, sqlite_url, tmp_path):
    from fastapi.testclient import TestClient

    from bot.settings import REPO_ROOT
    from webhook.app import create_app

    content = tmp_path / "content"  # production refuses the sample directory: a copy marked as real
    shutil.copytree(REPO_ROOT / "content", content)
    offices = content / "offices.yaml"
    offices.write_text(offices.read_text(encoding="utf-8").replace("sample: true", "sample: false"), encoding="utf-8")
    svc = make_services(sqlite_url, environment="production", secret_key="Qz7-pLm2_Vx9Rt4Kw8Ny3Hb6Jd1Fs5Gc0A",
                        content_dir=content)  # no development keys
    with TestClient(create_app(services=svc), raise_server_exceptions=False) as c:
        for text in ("我要举报", "石泉县", COMPANY, DETAIL, "跳过", "跳过", "跳过", "匿名"):
            say(c, "nokey-1", text)
        body = say(c, "nokey-1", "确认")
        assert body["receipt"] is None and body["expects"] == "confirm"
        assert "配置" in body["replies"][0]["text"] and svc.offices.city.contacts.phone in body["replies"][0]["text"]
    with svc.uow() as uow:
        assert uow.session.scalars(select(Tip)).first() is None
        assert all(c.sealed for c in uow.session.scalars(select(Conversation)))  # the draft stays sealed
    svc.db.dispose()
