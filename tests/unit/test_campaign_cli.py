"""`fundguard campaign …`: create (quiet hours respected), schedule from the calendar once, list, stats."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from bot.cli import main


@pytest.fixture
def cli(tmp_path, monkeypatch):
    for key in list(__import__("os").environ):
        if key.startswith("FUNDGUARD_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("FUNDGUARD_ENVIRONMENT", "test")
    monkeypatch.setenv("FUNDGUARD_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("FUNDGUARD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FUNDGUARD_SECRET_KEY", "test-secret-" + "x" * 40)
    monkeypatch.setenv("FUNDGUARD_KDF_STRENGTH", "min")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True):  # type: ignore[no-untyped-def]
        result = runner.invoke(main, ["campaign", *args], catch_exceptions=False)
        assert (result.exit_code == 0) is ok, result.output
        return result.output

    return invoke


def test_create_moves_a_time_in_quiet_hours_to_eight_and_list_shows_it(cli):
    out = cli("create", "--piece", "elderly_family_help", "--at", "2030-06-01 22:30", "--county", "hanbin")
    assert "scheduled for 2030-06-02 08:00" in out
    listing = cli("list")
    assert "elderly_family_help" in listing and "elderly" in listing and "hanbin" in listing
    assert "scheduled" in listing


def test_bad_requests_are_refused_with_a_message(cli):
    assert "unknown piece" in cli("create", "--piece", "nope", ok=False)
    assert "unknown audience" in cli("create", "--piece", "public_report", "--audience", "aliens", ok=False)
    assert "unknown county" in cli("create", "--piece", "public_report", "--county", "atlantis", ok=False)
    assert "no campaign" in cli("stats", "999", ok=False)


def test_the_calendar_is_scheduled_once(cli):
    out = cli("schedule", "--calendar", "--from", "2030-01-01", "--days", "364")
    assert "5 new campaign(s)" in out
    assert "2030-05-15 10:00" in out and "2030-10-05 09:30" in out  # 5·15 and 重阳节 (lunar 9/9) in 2030
    assert "0 new campaign(s)" in cli("schedule", "--calendar", "--from", "2030-01-01", "--days", "364")


def test_reschedule_stats_and_cancel(cli):
    out = cli("create", "--piece", "public_report", "--at", "2030-03-01 10:00")
    cid = out.split()[1]
    assert "moved to 2030-03-02 09:15" in cli("schedule", cid, "--at", "2030-03-02 09:15")
    table = cli("stats", cid)
    assert "total" in table and "by group" in table and "by county" in table
    data = json.loads(cli("stats", cid, "--json"))
    assert data["total"]["planned"] == 0 and data["status"] == "scheduled"
    assert "cancelled" in cli("cancel", cid)
    assert "not scheduled or running" in cli("cancel", cid, ok=False)
    assert "no push channel" in cli("run", cid, ok=False)


def test_pieces_and_check(cli):
    out = cli("pieces")
    assert "finance_lending_name" in out and "chongyang" in out
    assert "campaign content ok" in cli("check")
