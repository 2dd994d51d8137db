"""Issue 17 point 6: a failed `campaign run` leaves a clear state, a piece reaches a person at most once
a period unless forced, and `campaign create` says who cannot be reached and why."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import insert, select

from bot.bootstrap.campaigns import campaign_runtime, campaign_service
from bot.campaigns.config import CampaignConfig
from bot.campaigns.stats import campaign_stats
from bot.campaigns.worker import run_worker
from bot.cli import main as cli
from bot.store.campaign_models import Campaign
from bot.store.models import Subscriber, utcnow
from tests.conftest import make_settings

TG_TOKEN = "123456:ONCE-test"
CFG = dict(quiet_hours="", tick_seconds=0.2, drains=1, worker_threads=1)


def cli_env(monkeypatch, tmp_path, url: str) -> None:  # type: ignore[no-untyped-def]
    """The CLI sees the same database and secret as the test's services, and no push channel."""
    settings = make_settings(tmp_path, url)
    for name in ("FUNDGUARD_TELEGRAM_TOKEN", "FUNDGUARD_WECHAT_APP_ID", "FUNDGUARD_WECHAT_TOKEN",
                 "FUNDGUARD_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FUNDGUARD_ENVIRONMENT", "test")
    monkeypatch.setenv("FUNDGUARD_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("FUNDGUARD_DATABASE_URL", url)
    monkeypatch.setenv("FUNDGUARD_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("FUNDGUARD_KDF_STRENGTH", "min")
    monkeypatch.setenv("FUNDGUARD_CAMPAIGN_QUIET_HOURS", "")


def add(svc, channel: str, users: list[str], audience: str = "elderly") -> None:  # type: ignore[no-untyped-def]
    now = utcnow()
    with svc.db.begin() as conn:
        conn.execute(insert(Subscriber), [
            {"key": svc.hasher.digest("chat", f"{channel}:{u}"), "channel": channel,
             "sealed_chat_id": svc.drafts.encrypt_json(u), "audience": audience, "county": None,
             "opted_in": True, "reachable": True, "last_interaction": now, "created_at": now,
             "updated_at": now} for u in users])


def test_a_failed_run_is_marked_failed_and_the_same_piece_reaches_nobody_twice(
        make_services, sqlite_url, tmp_path, monkeypatch, fake):
    fake.reset()
    plain = make_services(sqlite_url)  # no push channel, as in the report
    users = [str(990000001 + i) for i in range(4)]
    add(plain, "telegram", users)
    service = campaign_service(plain, CampaignConfig(**CFG))
    first = service.create("elderly_family_help").id
    cli_env(monkeypatch, tmp_path, sqlite_url)
    result = CliRunner().invoke(cli, ["campaign", "run", str(first)])
    assert result.exit_code == 1
    assert f"campaign {first} failed and was not started: no push channel is configured" in result.output
    with plain.sessions() as s:
        row = s.get(Campaign, first)
        assert (row.status, row.failure) == ("failed", "no push channel is configured "
                                             "(FUNDGUARD_TELEGRAM_TOKEN / FUNDGUARD_WECHAT_APP_ID)")
    listed = CliRunner().invoke(cli, ["campaign", "list"])
    assert "failed" in listed.output and "no push channel" in listed.output
    assert service.due() == []  # a failed campaign is not picked up silently later

    svc = make_services(sqlite_url, telegram_token=fake.state.token or TG_TOKEN, telegram_api_base=fake.base_url)
    cfg = CampaignConfig(**CFG)
    second = campaign_service(svc, cfg).create("elderly_family_help").id
    run_worker(campaign_runtime(svc, cfg), install_signals=False,
               until=lambda rt: rt.campaigns.get(second).status == "done")
    assert sorted(str(c.params["chat_id"]) for c in fake.calls("sendMessage")) == users

    service = campaign_service(svc, cfg)
    service.reschedule(first, utcnow())  # `campaign run` again: it is scheduled once more ...
    run_worker(campaign_runtime(svc, cfg), install_signals=False,
               until=lambda rt: rt.campaigns.get(first).status == "done")
    assert len(fake.calls("sendMessage")) == 4  # ... and sends nothing twice
    stats = campaign_stats(svc.sessions, first)
    assert (stats.total.planned, stats.total.sent, stats.total.already_sent) == (4, 0, 4)

    forced = service.create("elderly_family_help", force=True).id
    run_worker(campaign_runtime(svc, cfg), install_signals=False,
               until=lambda rt: rt.campaigns.get(forced).status == "done")
    assert len(fake.calls("sendMessage")) == 8  # forced: everyone again
    other = service.create("elderly_pension_projects").id  # another piece is not held back
    run_worker(campaign_runtime(svc, cfg), install_signals=False,
               until=lambda rt: rt.campaigns.get(other).status == "done")
    assert len(fake.calls("sendMessage")) == 12
    svc.db.dispose()
    plain.db.dispose()


def test_campaign_create_warns_how_many_cannot_be_reached_and_why(make_services, sqlite_url, tmp_path, monkeypatch):
    svc = make_services(sqlite_url)
    add(svc, "web", ["w1", "w2", "w3"])
    add(svc, "telegram", ["880000001", "880000002"])
    add(svc, "telegram", ["880000003"], audience="student")  # not targeted
    with svc.sessions() as s:
        s.execute(Subscriber.__table__.update().where(Subscriber.channel == "web", Subscriber.id == s.scalar(
            select(Subscriber.id).where(Subscriber.channel == "web").limit(1))).values(opted_in=False))
        s.commit()
    cli_env(monkeypatch, tmp_path, sqlite_url)
    result = CliRunner().invoke(cli, ["campaign", "create", "--piece", "elderly_family_help"])
    assert result.exit_code == 0, result.output
    assert "WeChat path service" in result.output
    assert "warning: 4 of 4 targeted subscribers cannot be reached:" in result.output
    assert "2  on the web chat, which cannot push" in result.output
    assert "2  on a channel with no configured sender" in result.output
    mass = CliRunner().invoke(cli, ["campaign", "create", "--piece", "elderly_family_help", "--county", "hanbin",
                                    "--wechat-path", "mass"])
    assert mass.exit_code == 1 and "not a group within a county" in mass.output
    svc.db.dispose()
