"""Working tips in the console (TestClient, SQLite and PostgreSQL): workflow, sealed notes, evidence,
replies through the receipt or pushed to the chat, reports, dashboard, staff management, CLI."""

from __future__ import annotations

import asyncio
import io
import struct
import zlib
from datetime import timedelta

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import select, text, update

from bot.channels.base import SendResult
from bot.messages import Inbound
from bot.store.console_models import TipCase
from bot.store.models import Tip, TipEvent, utcnow
from bot.store.schema import metadata
from tests.integration.test_chat_api import say
from tests.integration.test_console_security import (
    COMPANY,
    PASSWORD,
    add_staff,
    audit,
    console,  # noqa: F401  (fixture)
    csrf_of,
    file_via_chat,
    last_tip_id,
    login,
    sign_in,
    totp,
    unlock,
)

NOTE = "线人说周五在镇上开推介会"
REASON = "经侦大队已受理此案"


def post(client, path: str, **data):
    return client.post(path, data={"csrf": csrf_of(client), **data}, follow_redirects=False)


def png(width: int = 2, height: int = 2) -> bytes:
    """A small valid PNG."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def all_rows_text(svc) -> str:
    with svc.uow() as uow:
        return "\n".join(str(row) for table in metadata.sorted_tables
                         for row in uow.session.execute(table.select()).all())


def test_the_status_workflow_with_reasons_sealed_like_the_tip(console):  # noqa: F811
    client, svc = console
    file_via_chat(client, "wf-1")
    tip_id = last_tip_id(svc)
    add_staff(svc, "sq-h", "shiquan")
    boss = add_staff(svc, "sq-s", "shiquan", role="supervisor")
    sign_in(client, "sq-h")
    unlock(client)
    base = f"/console/tips/{tip_id}"
    post(client, f"{base}/status", to="closed", reason="直接结案")      # not a step of the workflow
    post(client, f"{base}/status", to="checking", reason="  ")          # no reason
    with svc.uow() as uow:
        assert uow.session.get(Tip, tip_id).status == "new"
    for to, reason in (("checking", "开始核查"), ("to_police", REASON), ("verified", "查证属实"), ("closed", "结案")):
        assert post(client, f"{base}/status", to=to, reason=reason).status_code == 303
    assert post(client, f"{base}/note", text=NOTE).status_code == 303
    page = client.get(base).text
    assert REASON in page and NOTE in page and "已移交公安" in page
    with svc.uow() as uow:
        tip = uow.session.get(Tip, tip_id)
        assert tip.status == "closed" and tip.closed_at is not None
        assert uow.session.get(TipCase, tip_id).first_action_at is not None
        kinds = [e.kind for e in uow.session.scalars(select(TipEvent).where(TipEvent.tip_id == tip_id))]
        assert kinds == ["filed", "status", "status", "status", "status", "note"]
    dump = all_rows_text(svc)
    assert REASON not in dump and NOTE not in dump and COMPANY not in dump  # reasons and notes are sealed
    assert "checking" not in client.get(base).text.split('id="status-to"')[-1][:200]  # a handler cannot reopen
    assert post(client, f"{base}/status", to="checking", reason="重新核查").status_code == 303
    with svc.uow() as uow:
        assert uow.session.get(Tip, tip_id).status == "closed"
    sign_in(client, "sq-s", boss)
    assert post(client, f"{base}/status", to="checking", reason="发现新情况").status_code == 303
    with svc.uow() as uow:
        tip = uow.session.get(Tip, tip_id)
        assert tip.status == "checking" and tip.closed_at is None


def test_assignment_by_supervisors_only_to_colleagues(console):  # noqa: F811
    client, svc = console
    file_via_chat(client, "as-1")
    tip_id = last_tip_id(svc)
    add_staff(svc, "sq-worker", "shiquan")
    add_staff(svc, "hb-worker", "hanbin")
    boss = add_staff(svc, "sq-boss", "shiquan", role="supervisor")
    sign_in(client, "sq-worker")
    assert post(client, f"/console/tips/{tip_id}/assign", staff_id="1").status_code == 403
    sign_in(client, "sq-boss", boss)
    with svc.uow() as uow:
        from bot.store.console_models import StaffAccount

        ids = {a.username: a.id for a in uow.session.scalars(select(StaffAccount))}
    post(client, f"/console/tips/{tip_id}/assign", staff_id=str(ids["hb-worker"]))  # another county: refused
    with svc.uow() as uow:
        assert uow.session.get(TipCase, tip_id) is None
    post(client, f"/console/tips/{tip_id}/assign", staff_id=str(ids["sq-worker"]))
    with svc.uow() as uow:
        assert uow.session.get(TipCase, tip_id).assigned_to == ids["sq-worker"]
    sign_in(client, "sq-worker")
    assert f'data-tip="{tip_id}"' in client.get("/console/", params={"assigned": "me"}).text


def test_evidence_images_are_shown_through_an_authenticated_route(console):  # noqa: F811
    client, svc = console
    image = png()

    async def file_with_image() -> None:
        for message in ("我要举报", "石泉县", COMPANY, "每月返息三分，保本保息", "跳过", "跳过"):
            await svc.turns.handle(Inbound(channel="web", user="img-1", text=message))
        await svc.turns.handle(Inbound(channel="web", user="img-1", kind="image", media=image))
        for message in ("好了", "匿名", "确认"):
            turn = await svc.turns.handle(Inbound(channel="web", user="img-1", text=message))
        assert turn.receipt

    asyncio.run(file_with_image())
    tip_id = last_tip_id(svc)
    add_staff(svc, "sq-img", "shiquan")
    add_staff(svc, "hb-img", "hanbin")
    sign_in(client, "sq-img")
    unlock(client)
    page = client.get(f"/console/tips/{tip_id}").text
    src = page.split(f'src="/console/tips/{tip_id}/evidence/')[1].split('"')[0]
    r = client.get(f"/console/tips/{tip_id}/evidence/{src}")
    assert r.status_code == 200 and r.content == image and r.headers["content-type"].startswith("image/")
    assert "sandbox" in r.headers["content-security-policy"] and r.headers["cache-control"].startswith("no-store")
    assert audit(svc, "open_evidence", tip_id) == [("sq-img", tip_id, src)]
    sign_in(client, "hb-img")
    unlock(client)
    assert client.get(f"/console/tips/{tip_id}/evidence/{src}").status_code == 404


class RecordingSender:
    """A push channel that records what it was asked to send (the project's own Sender protocol)."""

    def __init__(self, channel: str, status: str = "sent") -> None:
        self.channel, self.status, self.sent = channel, status, []

    async def send(self, chat_id, messages):
        self.sent.append((chat_id, [m.text for m in messages]))
        return SendResult(self.status)  # type: ignore[arg-type]


def test_a_reply_reaches_the_tipster_through_the_receipt(console):  # noqa: F811
    client, svc = console
    receipt = file_via_chat(client, "reply-web")
    tip_id = last_tip_id(svc)
    add_staff(svc, "sq-rep", "shiquan")
    sign_in(client, "sq-rep")
    unlock(client)
    assert post(client, f"/console/tips/{tip_id}/reply", text="请问合同上盖的是哪个公章？").status_code == 303
    body = say(client, "somebody-else", f"查询 {receipt}")
    assert "请问合同上盖的是哪个公章？" in body["replies"][0]["text"]
    assert "已送达" not in client.get(f"/console/tips/{tip_id}").text
    assert "请问合同上盖的是哪个公章？" in say(client, "somebody-else", f"查询 {receipt}")["replies"][0]["text"]
    say(client, "somebody-else", "我看到了")
    assert "请问合同上盖的是哪个公章？" not in say(client, "somebody-else", f"查询 {receipt}")["replies"][0]["text"]
    assert "请问合同上盖的是哪个公章？" not in all_rows_text(svc)
    assert "已送达" in client.get(f"/console/tips/{tip_id}").text


@pytest.mark.parametrize("status", ["sent", "unreachable"])
def test_a_reply_is_pushed_to_the_chat_that_filed_the_tip_when_it_can_be(console, status):  # noqa: F811
    client, svc = console

    async def file_from_telegram() -> str:
        answers = {"region": "石泉县", "subject": COMPANY, "description": "每月返息三分，保本保息", "amount": "跳过",
                   "participants": "跳过", "evidence": "跳过", "contact": "匿名", "confirm": "确认"}
        turn = await svc.turns.handle(Inbound(channel="telegram", user="777001", text="我要举报"))
        while turn.expects:
            turn = await svc.turns.handle(Inbound(channel="telegram", user="777001", text=answers[turn.expects]))
        return turn.receipt

    receipt = asyncio.run(file_from_telegram())
    tip_id = last_tip_id(svc)
    sender = RecordingSender("telegram", status)
    svc.senders["telegram"] = sender
    add_staff(svc, "sq-push", "shiquan")
    sign_in(client, "sq-push")
    unlock(client)
    post(client, f"/console/tips/{tip_id}/reply", text="请补充转账记录")
    assert sender.sent == [("777001", ["处非办给您的留言：请补充转账记录"])]
    assert "777001" not in client.get(f"/console/tips/{tip_id}").text  # the chat id is never shown
    later = say(client, "another-person", f"查询 {receipt}")["replies"][0]["text"]
    assert ("请补充转账记录" in later) is (status != "sent")  # pushed: not repeated; not pushed: kept for the receipt


def test_monthly_report_and_risk_ledger_exports(console):  # noqa: F811
    client, svc = console
    file_via_chat(client, "rep-1", subject="=HYPERLINK(\"http://x.invalid\")合作社")
    first = last_tip_id(svc)
    file_via_chat(client, "rep-2", amount="两百万")
    urgent = last_tip_id(svc)
    file_via_chat(client, "rep-3", region="汉滨区")
    file_via_chat(client, "rep-4")
    old = last_tip_id(svc)
    with svc.uow() as uow:
        uow.session.execute(update(Tip).where(Tip.id == old).values(created_at=utcnow() - timedelta(days=70)))
        uow.commit()
    add_staff(svc, "sq-hand", "shiquan")
    boss = add_staff(svc, "sq-rboss", "shiquan", role="supervisor")
    sign_in(client, "sq-hand")
    assert client.get("/console/reports").status_code == 403
    assert post(client, "/console/reports/monthly", month="2020-01", kind="csv").status_code == 403
    sign_in(client, "sq-rboss", boss)
    from bot.staff.labels import zone

    month = utcnow().astimezone(zone()).strftime("%Y-%m")
    locked = post(client, "/console/reports/monthly", month=month, kind="csv")
    rows = [line.split(",") for line in locked.content.decode("utf-8-sig").strip().splitlines()]
    assert rows[0][:4] == ["序号", "线索编号", "收到时间", "县区"]
    assert [int(r[1]) for r in rows[1:]] == [first, urgent] and {r[3] for r in rows[1:]} == {"石泉县"}
    assert {r[9] for r in rows[1:]} == {"（未解锁）"} and audit(svc, "open") == []
    unlock(client)
    r = post(client, "/console/reports/monthly", month=month, kind="xlsx")
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(r.content))
    sheet = [list(row) for row in book["线索明细"].iter_rows(values_only=True)]
    assert [row[1] for row in sheet[1:]] == [first, urgent]
    assert sheet[1][9].startswith("'=HYPERLINK") and book["线索明细"].cell(2, 10).data_type == "s"
    assert sheet[2][5] == "是" and sheet[2][10] == 2_000_000 and COMPANY in sheet[2][9]
    summary = [list(row) for row in book["汇总"].iter_rows(values_only=True)]
    assert summary[-1] == ["合计", None, 2, 1]
    exported = [(tip, reason) for _, tip, reason in audit(svc, "open") if reason != "队列显示涉及主体"]
    assert {tip for tip, _ in exported} == {first, urgent}  # (the queue page fetched for the form token
    assert {reason for _, reason in exported} == {"月报导出"}  # shows subjects too: audited apart)
    ledger = post(client, "/console/reports/ledger", kind="csv").content.decode("utf-8-sig").splitlines()
    assert len(ledger) == 4 and ledger[0].startswith("线索编号,登记日期")  # every shiquan tip, old ones too
    assert [e[2] for e in audit(svc, "export_monthly")] == [f"{month} csv", f"{month} xlsx"]


def test_dashboard_charts_are_drawn_on_the_server(console):  # noqa: F811
    client, svc = console
    file_via_chat(client, "dash-1")
    file_via_chat(client, "dash-2", amount="两百万")
    file_via_chat(client, "dash-3", region="汉滨区")
    secret = add_staff(svc, "city-boss", "ankang", role="supervisor")
    sign_in(client, "city-boss", secret)
    html = client.get("/console/dashboard").text
    reach = "deliveries" in metadata.tables  # the campaign part's table, built in parallel
    assert html.count("<svg") == 5 + reach and 'id="kpi-total">3<' in html
    assert "石泉县" in html and "汉滨区" in html and "涉农合作组织" in html
    assert "http://" not in html and "https://" not in html  # nothing from outside
    add_staff(svc, "hb-dash", "hanbin")
    sign_in(client, "hb-dash")
    assert 'id="kpi-total">1<' in client.get("/console/dashboard").text  # a county sees only its own


def test_campaign_reach_by_group_once_pushes_exist(console):  # noqa: F811
    client, svc = console
    if "deliveries" not in metadata.tables:
        pytest.skip("the campaign tables are not there yet")
    from bot.store.campaign_models import Campaign, Delivery
    from bot.store.models import Subscriber

    with svc.uow() as uow:
        campaign = Campaign(piece="p1", name="test", scheduled_at=utcnow())
        uow.session.add(campaign)
        uow.session.flush()
        rows = [("elderly", "shiquan", "sent"), ("elderly", "shiquan", "sent"), ("student", "hanbin", "sent"),
                ("elderly", "shiquan", "failed")]
        for n, (audience, county, state) in enumerate(rows):
            sub = Subscriber(key=f"k{n}", channel="telegram", sealed_chat_id="x", audience=audience, county=county)
            uow.session.add(sub)
            uow.session.flush()
            uow.session.add(Delivery(campaign_id=campaign.id, subscriber_id=sub.id, channel="telegram",
                                     audience=audience, county=county, state=state,
                                     sent_at=utcnow() if state == "sent" else None))
        uow.commit()
    add_staff(svc, "sq-reach", "shiquan")
    sign_in(client, "sq-reach")
    html = client.get("/console/dashboard").text
    chart = html.split('id="chart-reach"')[1].split("</figure>")[0]
    assert "老年人及家属：2" in chart and "大学生和应届毕业生：0" in chart  # only this county's, only sent


def test_admins_manage_staff_of_their_offices(console):  # noqa: F811
    client, svc = console
    admin = add_staff(svc, "sq-admin", "shiquan", role="admin")
    add_staff(svc, "sq-someone", "shiquan")
    sign_in(client, "sq-someone")
    assert client.get("/console/admin/staff").status_code == 403
    sign_in(client, "sq-admin", admin)
    r = post(client, "/console/admin/staff", username="hb-new", display_name="新人", office="hanbin", role="handler",
             password=PASSWORD)
    assert r.status_code == 403
    r = post(client, "/console/admin/staff", username="sq-new", display_name="新负责人", office="shiquan",
             role="supervisor", password="short")
    assert r.status_code == 400 and "12" in r.text
    r = post(client, "/console/admin/staff", username="sq-new", display_name="新负责人", office="shiquan",
             role="supervisor", password=PASSWORD)
    assert r.status_code == 200
    secret = r.text.split('id="totp-secret">')[1].split("<")[0]
    sign_in(client, "sq-new", secret)
    assert login(client, "sq-admin", code=totp(admin, ahead=1)).status_code == 303  # the next code: no replay
    with svc.uow() as uow:
        from bot.store.console_models import StaffAccount

        new_id = uow.session.scalars(select(StaffAccount.id).where(StaffAccount.username == "sq-new")).one()
    post(client, f"/console/admin/staff/{new_id}/active", active="0")
    assert login(client, "sq-new", code=totp(secret, ahead=1)).status_code == 401  # deactivated


def test_cli_staff_add_list_and_deactivate(services, monkeypatch):
    from bot.cli import main as cli

    s = services.settings
    for name, value in {"FUNDGUARD_DATABASE_URL": s.database_url, "FUNDGUARD_DATA_DIR": str(s.data_dir),
                        "FUNDGUARD_SECRET_KEY": s.secret_key, "FUNDGUARD_KDF_STRENGTH": "min",
                        "FUNDGUARD_ENVIRONMENT": "test", "FUNDGUARD_STAFF_PASSWORD": PASSWORD}.items():
        monkeypatch.setenv(name, value)
    run = CliRunner().invoke
    r = run(cli, ["staff", "add", "--username", "zhang", "--name", "张", "--office", "shiquan", "--role", "supervisor",
                  "--no-totp"])
    assert r.exit_code == 0, r.output
    assert "secret:" in r.output and "otpauth://totp/" in r.output  # supervisors get TOTP regardless
    r = run(cli, ["staff", "add", "--username", "wang", "--name", "王", "--office", "shiquan"])
    assert r.exit_code == 0 and "secret:" not in r.output
    assert run(cli, ["staff", "add", "--username", "zhang", "--name", "张", "--office", "shiquan"]).exit_code != 0
    assert run(cli, ["staff", "add", "--username", "li", "--name", "李", "--office", "nowhere"]).exit_code != 0
    monkeypatch.setenv("FUNDGUARD_STAFF_PASSWORD", "short")
    assert run(cli, ["staff", "add", "--username", "zhao", "--name", "赵", "--office", "shiquan"]).exit_code != 0
    listing = run(cli, ["staff", "list"]).output
    assert "zhang" in listing and "wang" in listing and "zhao" not in listing
    assert run(cli, ["staff", "deactivate", "wang"]).exit_code == 0
    assert "inactive" in run(cli, ["staff", "list"]).output
    with services.uow() as uow:
        stored = uow.session.execute(text("select password_hash from staff_accounts")).scalars().all()
        assert all(h.startswith("$argon2id$") and PASSWORD not in h for h in stored)


def test_the_console_migration_goes_down_and_up(tmp_path):
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine, inspect

    from bot.store.db import MIGRATIONS_DIR, upgrade

    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url)
    cfg.attributes["configure_logger"] = False
    command.downgrade(cfg, "0003")
    engine = create_engine(url)
    assert not {"staff_accounts", "staff_sessions", "tip_cases"} & set(inspect(engine).get_table_names())
    command.upgrade(cfg, "head")
    assert {"staff_accounts", "staff_sessions", "tip_cases"} <= set(inspect(engine).get_table_names())
    engine.dispose()
