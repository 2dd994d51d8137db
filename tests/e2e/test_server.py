"""The shown-by of the foundation: a started server answers 啥叫非法集资 with topic `definition`."""

from __future__ import annotations

import json
import shutil
import subprocess

import httpx
import pytest


def test_a_started_server_answers_over_http(live_server):
    r = httpx.post(f"{live_server}/api/chat", content='{"user":"u1","text":"啥叫非法集资"}'.encode(),
                   headers={"content-type": "application/json"}, timeout=10)
    assert r.status_code == 200
    assert r.json()["topic"] == "definition"


def test_the_readme_curl_command_works(live_server):
    if shutil.which("curl") is None:
        pytest.skip("curl not installed")
    body = '{"user":"u1","text":"啥叫非法集资"}'
    out = subprocess.run(["curl", "-sS", "-XPOST", f"{live_server}/api/chat", "-d", body],
                         capture_output=True, timeout=30, check=True).stdout
    assert json.loads(out)["topic"] == "definition"


def test_a_whole_tip_over_http(live_server):
    def say(text: str) -> dict:
        r = httpx.post(f"{live_server}/api/chat", json={"user": "e2e-tipster", "text": text}, timeout=10)
        assert r.status_code == 200, r.text
        return r.json()

    steps = ("我要举报", "平利县", "某某养老公寓", "交钱就送养老床位还每月返息", "跳过", "跳过", "跳过", "匿名")
    expects = [say(t)["expects"] for t in steps]
    assert expects == ["region", "subject", "description", "amount", "participants", "evidence", "contact",
                       "confirm"]
    receipt = say("确认")["receipt"]
    assert receipt
    r = httpx.post(f"{live_server}/api/chat", json={"user": "e2e-other", "text": f"查询 {receipt}"}, timeout=10)
    assert r.json()["topic"] == "report_status"
