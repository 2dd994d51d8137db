"""The Telegram channel by polling, and the `fundguard telegram …` commands, against the fake Bot API."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from bot.channels.telegram.app import run_polling
from bot.channels.telegram.texts import COMMANDS
from bot.cli import main as cli
from bot.tips.flow import PROMPTS
from tests.fakes.telegram_api import USER, FakeTelegram, Updates

TOKEN = "123456:TEST-token"
CHAT = USER["id"]
REPO = Path(__file__).resolve().parents[2]


async def _until(predicate, timeout: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_polling_answers_what_getupdates_returns(make_services, sqlite_url):
    with FakeTelegram(max_poll_wait=0.3) as tg:
        tg.state.webhook = {"url": "https://old.example.org/telegram"}  # polling must remove it first
        svc = make_services(sqlite_url, telegram_token=TOKEN, telegram_api_base=tg.base_url)
        u = Updates()
        tg.push_update(u.message("什么是非法集资"))
        tg.push_update(u.command("/report"))
        stop = asyncio.Event()
        task = asyncio.create_task(run_polling(svc.talk.telegram, stop=stop, poll_timeout=1))
        try:
            await _until(lambda: len(tg.texts(CHAT)) >= 2)
            tg.push_update(u.message("跳过"))  # a later update, fetched by a later getUpdates
            await _until(lambda: len(tg.texts(CHAT)) >= 3)
        finally:
            stop.set()
            await asyncio.wait_for(task, 15)
        texts = tg.texts(CHAT)
        assert "非法集资" in texts[0] and PROMPTS["region"] in texts[1] and PROMPTS["subject"] in texts[2]
        assert tg.calls("deleteWebhook") and not tg.state.webhook
        assert [c["command"] for c in tg.state.commands] == [name for name, _, _ in COMMANDS]
        assert tg.state.updates == []  # every update was confirmed (offset) before the bot stopped
        assert all(c.status == 200 for c in tg.calls("getUpdates"))
    svc.db.dispose()


def _env(tg: FakeTelegram, **extra: str) -> dict[str, str]:
    return {"FUNDGUARD_TELEGRAM_TOKEN": TOKEN, "FUNDGUARD_TELEGRAM_API_BASE": tg.base_url,
            "FUNDGUARD_TELEGRAM_WEBHOOK_SECRET": "cli-secret", **extra}


def test_set_webhook_registers_the_secret_and_the_commands():
    with FakeTelegram() as tg:
        result = CliRunner().invoke(cli, ["telegram", "set-webhook", "https://bot.example.org/telegram"],
                                    env=_env(tg))
        assert result.exit_code == 0, result.output
        assert "@fundguard_test_bot" in result.output and "cli-secret" not in result.output
        hook = tg.calls("setWebhook")[0].params
        assert hook["url"] == "https://bot.example.org/telegram" and hook["secret_token"] == "cli-secret"
        assert set(hook["allowed_updates"]) == {"message", "callback_query", "my_chat_member"}
        assert [c["command"] for c in tg.calls("setMyCommands")[0].params["commands"]] == [
            "start", "help", "report", "status", "check", "subscribe", "unsubscribe", "cancel"]
        result = CliRunner().invoke(cli, ["telegram", "delete-webhook"], env=_env(tg))
        assert result.exit_code == 0 and tg.calls("deleteWebhook")


def test_set_webhook_refuses_bad_input_without_calling_telegram():
    with FakeTelegram(token=TOKEN) as tg:
        plain = CliRunner().invoke(cli, ["telegram", "set-webhook", "http://bot.example.org/telegram"], env=_env(tg))
        assert plain.exit_code == 2 and "https" in plain.output
        missing = CliRunner().invoke(cli, ["telegram", "set-webhook", "https://x.org/telegram"],
                                     env=_env(tg, FUNDGUARD_TELEGRAM_TOKEN=""))
        assert missing.exit_code == 2 and "FUNDGUARD_TELEGRAM_TOKEN" in missing.output
        assert tg.calls() == []
        wrong = CliRunner().invoke(cli, ["telegram", "set-webhook", "https://x.org/telegram"],
                                   env=_env(tg, FUNDGUARD_TELEGRAM_TOKEN="999:wrong"))
        assert wrong.exit_code == 1 and "rejected" in wrong.output and "999:wrong" not in wrong.output
        bad = CliRunner().invoke(cli, ["telegram", "set-webhook", "https://x.org/telegram"],
                                 env=_env(tg, FUNDGUARD_TELEGRAM_WEBHOOK_SECRET="has spaces!"))
        assert bad.exit_code == 1 and "A-Z a-z 0-9" in bad.output and tg.calls("setWebhook") == []


def test_the_poll_command_runs_until_interrupted(nlu_data_dir_path, embedded_nlu, tmp_path):
    with FakeTelegram(max_poll_wait=0.3) as tg:
        tg.push_update(Updates().message("你好"))
        env = {**os.environ, **_env(tg), "FUNDGUARD_DATA_DIR": str(nlu_data_dir_path), "FUNDGUARD_KDF_STRENGTH": "min",
               "FUNDGUARD_DATABASE_URL": f"sqlite:///{tmp_path / 'poll.db'}", "FUNDGUARD_ENVIRONMENT": "test"}
        proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "telegram", "poll", "--timeout", "1"], cwd=REPO,
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 60
            while not tg.texts(CHAT) and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.1)
            assert tg.texts(CHAT), "no reply from the polling bot"
        finally:
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err[-2000:]
        assert "stopped" in out
