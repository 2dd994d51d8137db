"""Office-side tools: `fundguard tips open` (audited), purge, keygen, and the new-tip notifiers."""

from __future__ import annotations

import json
import smtplib
import threading
import time
from datetime import timedelta
from email import message_from_bytes
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.cli import main as cli
from bot.store.models import AuditEntry, Tip, TipSeal, utcnow
from bot.tips.keys import DEV_PASSPHRASE
from bot.tips.notify import SmtpNotifier, TipNotice, WeComRobotNotifier
from tests.integration.test_tips import COMPANY, PERSON, PHONE, file_tip


@pytest.fixture
def cli_env(services, monkeypatch):
    s = services.settings
    for name, value in {"FUNDGUARD_DATABASE_URL": s.database_url, "FUNDGUARD_DATA_DIR": str(s.data_dir),
                        "FUNDGUARD_SECRET_KEY": s.secret_key, "FUNDGUARD_KDF_STRENGTH": "min",
                        "FUNDGUARD_ENVIRONMENT": "test"}.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def test_tips_open_shows_the_tip_and_writes_an_audit_row(client, services, cli_env):
    file_tip(client, "cli-1", contact=f"{PERSON} {PHONE}")
    with services.uow() as uow:
        tip_id = uow.session.scalars(select(Tip.id)).one()
    cli_env.setenv("FUNDGUARD_OFFICE_PASSPHRASE", DEV_PASSPHRASE)
    result = CliRunner().invoke(cli, ["tips", "open", str(tip_id), "--actor", "staff-li"])
    assert result.exit_code == 0, result.output
    assert COMPANY in result.output and PHONE not in result.output  # identity stays sealed
    result = CliRunner().invoke(cli, ["tips", "open", str(tip_id), "--actor", "staff-li", "--reveal-identity"])
    assert result.exit_code != 0 and "--reason" in result.output
    result = CliRunner().invoke(cli, ["tips", "open", str(tip_id), "--actor", "staff-li", "--reveal-identity",
                                      "--reason", "发放举报奖励"])
    assert result.exit_code == 0 and PHONE in result.output
    with services.uow() as uow:
        rows = uow.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert [(r.actor, r.action, r.tip_id) for r in rows] == [
            ("staff-li", "open", tip_id), ("staff-li", "open", tip_id), ("staff-li", "reveal_identity", tip_id)]
        assert rows[-1].reason == "发放举报奖励"


def test_tips_open_refuses_a_wrong_passphrase_and_another_office(client, services, cli_env):
    file_tip(client, "cli-2")
    with services.uow() as uow:
        tip_id = uow.session.scalars(select(Tip.id)).one()
    cli_env.setenv("FUNDGUARD_OFFICE_PASSPHRASE", "not-the-passphrase")
    result = CliRunner().invoke(cli, ["tips", "open", str(tip_id)])
    assert result.exit_code != 0 and COMPANY not in result.output
    cli_env.setenv("FUNDGUARD_OFFICE_PASSPHRASE", DEV_PASSPHRASE)
    result = CliRunner().invoke(cli, ["tips", "open", str(tip_id), "--office", "hanbin"])
    assert result.exit_code != 0 and "not sealed to office hanbin" in result.output
    with services.uow() as uow:
        assert uow.session.scalars(select(AuditEntry)).first() is None


def test_purge_removes_only_closed_tips_past_retention(client, services, cli_env):
    file_tip(client, "purge-1")
    file_tip(client, "purge-2")
    with services.uow() as uow:
        old, recent = uow.session.scalars(select(Tip).order_by(Tip.id)).all()
        old.status, old.closed_at = "closed", utcnow() - timedelta(days=400)
        recent.status, recent.closed_at = "closed", utcnow() - timedelta(days=10)
        uow.commit()
        old_id = old.id
    result = CliRunner().invoke(cli, ["tips", "purge"])
    assert result.exit_code == 0 and "purged 1" in result.output
    with services.uow() as uow:
        assert [t.status for t in uow.session.scalars(select(Tip))] == ["closed"]
        assert uow.session.scalars(select(TipSeal).where(TipSeal.tip_id == old_id)).first() is None


def test_keygen_replaces_the_development_key(services, cli_env):
    cli_env.setenv("FUNDGUARD_OFFICE_PASSPHRASE", "a long office passphrase")
    result = CliRunner().invoke(cli, ["office", "keygen", "--office", "baihe", "--rotate"])
    assert result.exit_code == 0, result.output
    from bot.store.models import Office
    from bot.tips.keys import unlock

    with services.uow() as uow:
        row = uow.session.get(Office, "baihe")
        assert row.development_key is False and row.public_key in result.output
        assert "a long office passphrase" not in row.key_file
        unlock(uow.session, "baihe", "a long office passphrase")
    assert CliRunner().invoke(cli, ["office", "keygen", "--office", "nowhere"]).exit_code != 0


# --- notifiers against local fake servers ----------------------------------------------------------
class _Robot(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Robot.received.append(json.loads(body))
        out = json.dumps({"errcode": 0, "errmsg": "ok"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):  # silence
        pass


def test_wecom_robot_notice_carries_no_content(sqlite_client, make_services, sqlite_url):
    server = HTTPServer(("127.0.0.1", 0), _Robot)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Robot.received.clear()
    from fastapi.testclient import TestClient

    from webhook.app import create_app

    url = f"http://127.0.0.1:{server.server_port}/cgi-bin/webhook/send?key=test"
    svc = make_services(sqlite_url, notify_wecom_url=url)
    with TestClient(create_app(services=svc)) as c:
        file_tip(c, "notify-1", contact=f"{PERSON} {PHONE}")
        deadline = time.monotonic() + 5
        while not _Robot.received and time.monotonic() < deadline:
            time.sleep(0.05)
    server.shutdown()
    assert len(_Robot.received) == 1
    msg = _Robot.received[0]
    assert msg["msgtype"] == "text" and "石泉县" in msg["text"]["content"] and "编号" in msg["text"]["content"]
    for marker in (COMPANY, PERSON, PHONE):
        assert marker not in json.dumps(msg, ensure_ascii=False)


def test_a_failing_notifier_does_not_lose_the_tip(make_services, sqlite_url):
    from fastapi.testclient import TestClient

    from webhook.app import create_app

    svc = make_services(sqlite_url, notify_wecom_url="http://127.0.0.1:9/unreachable")
    with TestClient(create_app(services=svc)) as c:
        assert file_tip(c, "notify-2")["receipt"]
    with svc.uow() as uow:
        assert uow.session.scalars(select(Tip)).one()


class _FakeSmtp(threading.Thread):
    """A minimal SMTP server speaking enough of RFC 5321 for smtplib."""

    def __init__(self) -> None:
        import socket

        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.messages: list[bytes] = []

    def run(self) -> None:
        conn, _ = self.sock.accept()
        f = conn.makefile("rwb")

        def send(line: str) -> None:
            f.write(line.encode() + b"\r\n")
            f.flush()

        send("220 fake ESMTP")
        while line := f.readline():
            cmd = line.decode().strip().upper()
            if cmd.startswith(("EHLO", "HELO")):
                send("250 fake")
            elif cmd == "DATA":
                send("354 go ahead")
                data = b""
                while (chunk := f.readline()) != b".\r\n":
                    data += chunk
                self.messages.append(data)
                send("250 queued")
            elif cmd == "QUIT":
                send("221 bye")
                break
            else:
                send("250 ok")
        conn.close()


def test_smtp_notice_reaches_a_local_server():
    server = _FakeSmtp()
    server.start()
    SmtpNotifier("127.0.0.1", server.port, "bot@example.invalid", ["office@example.invalid"]).notify(
        TipNotice(7, "汉滨区", "涉农合作组织", urgent=True))
    server.join(5)
    assert len(server.messages) == 1
    mail = message_from_bytes(server.messages[0], policy=default_policy)
    assert "【紧急】" in mail["Subject"] and "#7" in mail["Subject"]
    assert "汉滨区" in mail.get_content() and mail["To"] == "office@example.invalid"


def test_smtp_errors_surface_to_the_caller():
    with pytest.raises((smtplib.SMTPException, OSError)):
        SmtpNotifier("127.0.0.1", 9, "a@example.invalid", ["b@example.invalid"], timeout=1).notify(
            TipNotice(1, "汉滨区", "其他", False))


def test_wecom_refusal_is_an_error():
    class Refuse(_Robot):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers["Content-Length"]))
            out = b'{"errcode": 93000, "errmsg": "invalid webhook url"}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

    server = HTTPServer(("127.0.0.1", 0), Refuse)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with pytest.raises(RuntimeError, match="93000"):
        WeComRobotNotifier(f"http://127.0.0.1:{server.server_port}/").notify(TipNotice(1, "汉滨区", "其他", False))
    server.shutdown()
