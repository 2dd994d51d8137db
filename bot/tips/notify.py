"""Telling an office a tip arrived — an id, the county, the category, the urgency; never content."""

from __future__ import annotations

import json
import smtplib
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol


@dataclass(frozen=True)
class TipNotice:
    tip_id: int
    county: str
    category: str
    urgent: bool

    def text(self) -> str:
        head = "【紧急】" if self.urgent else ""
        return (f"{head}收到新的非法集资举报线索\n编号：{self.tip_id}\n县区：{self.county}\n类别：{self.category}\n"
                "请登录处非办工作台查看（内容已加密，仅本办可解密）。")


class Notifier(Protocol):
    def notify(self, notice: TipNotice) -> None: ...


class NullNotifier:
    def notify(self, notice: TipNotice) -> None:
        return None


class WeComRobotNotifier:
    """A WeCom (企业微信) group robot webhook: POST {"msgtype": "text", "text": {"content": ...}}."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.url = url
        self.timeout = timeout

    def notify(self, notice: TipNotice) -> None:
        body = json.dumps({"msgtype": "text", "text": {"content": notice.text()}}, ensure_ascii=False).encode()
        req = urllib.request.Request(self.url, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 (configured URL)
            reply = json.loads(resp.read() or b"{}")
        if reply.get("errcode", 0) != 0:
            raise RuntimeError(f"wecom robot refused the notice: errcode {reply.get('errcode')}")


class SmtpNotifier:
    def __init__(self, host: str, port: int, sender: str, recipients: list[str], *, starttls: bool = False,
                 username: str = "", password: str = "", timeout: float = 10.0) -> None:
        self.host, self.port, self.sender, self.recipients = host, port, sender, recipients
        self.starttls, self.username, self.password, self.timeout = starttls, username, password, timeout

    def notify(self, notice: TipNotice) -> None:
        msg = EmailMessage()
        msg["Subject"] = f"{'【紧急】' if notice.urgent else ''}新举报线索 #{notice.tip_id}（{notice.county}）"
        msg["From"], msg["To"] = self.sender, ", ".join(self.recipients)
        msg.set_content(notice.text())
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password)
            smtp.send_message(msg)


class FanOutNotifier:
    def __init__(self, notifiers: list[Notifier]) -> None:
        self.notifiers = notifiers

    def notify(self, notice: TipNotice) -> None:
        errors = []
        for n in self.notifiers:
            try:
                n.notify(notice)
            except Exception as exc:
                errors.append(exc)
        if errors:
            raise errors[0]
