"""The WeChat sender against the fake API: shared sealed token, the 48-hour window, refusals, the menu."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from bot.bootstrap import bootstrap
from bot.channels.wechat.client import WeChatClient
from bot.channels.wechat.menu import Menu
from bot.messages import Button, Inbound, Outbound
from bot.store.models import SharedValue, Subscriber, utcnow
from bot.store.subscribers import SubscriberRepository
from tests.conftest import REPO, make_settings
from tests.integration import test_wechat as base

APP_ID, SECRET, USER, wechat_settings = base.APP_ID, base.SECRET, base.USER, base.wechat_settings
api, open_wechat = base.api, base.open_wechat  # the fixtures, shared


@pytest.fixture
def wechat_services(tmp_path: Path, embedded_nlu, api, db_url):  # type: ignore[no-untyped-def]
    made = []

    def factory():  # type: ignore[no-untyped-def]
        svc = bootstrap(make_settings(tmp_path, db_url, **wechat_settings(api)), embedded=embedded_nlu)
        made.append(svc)
        return svc

    yield factory
    for svc in made:
        svc.db.dispose()


def subscribe(services, openid: str = USER, *, hours_ago: float = 0) -> str:  # type: ignore[no-untyped-def]
    key = services.engine.conversation_key(Inbound(channel="wechat", user=openid))
    with services.uow() as uow:
        sub = SubscriberRepository(uow.session).subscribe(key, "wechat", services.drafts.encrypt_json(openid),
                                                          "elderly", None)
        sub.last_interaction = utcnow() - timedelta(hours=hours_ago)
        uow.commit()
    return key


def reach(services, key: str) -> tuple[bool, str | None]:  # type: ignore[no-untyped-def]
    """The subscriber's (reachable, last_error)."""
    with services.uow() as uow:
        sub = uow.session.scalars(select(Subscriber).where(Subscriber.key == key)).one()
        return sub.reachable, sub.last_error


def send(client: WeChatClient, *messages: Outbound, to: str = USER):  # type: ignore[no-untyped-def]
    return asyncio.run(client.send(to, list(messages)))


def test_senders_hold_wechat_only_when_configured_and_key_like_the_engine(wechat_services, make_services, db_url):
    services = wechat_services()
    client = services.senders["wechat"]
    assert isinstance(client, WeChatClient) and client.channel == "wechat"
    assert client._key(USER) == services.engine.conversation_key(Inbound(channel="wechat", user=USER))
    assert "wechat" not in make_services(db_url).senders


def test_the_token_is_fetched_once_shared_sealed_and_refreshed_before_expiry(wechat_services, api):
    one, two = wechat_services(), wechat_services()  # two workers
    assert send(one.senders["wechat"], Outbound("第一条")).ok
    assert send(two.senders["wechat"], Outbound("第二条")).ok
    assert len(api.calls("token")) == 1
    assert api.sent_texts(USER) == ["第一条", "第二条"]
    with one.uow() as uow:
        row = uow.session.scalars(select(SharedValue).where(SharedValue.name.like("wechat:%"))).one()
        assert "FAKE-TOKEN" not in row.value and APP_ID in row.name
        uow.session.execute(update(SharedValue).where(SharedValue.name == row.name)
                            .values(expires_at=utcnow() + timedelta(seconds=120)))  # inside the margin
        uow.commit()
    assert send(two.senders["wechat"], Outbound("第三条")).ok
    assert len(api.calls("token")) == 2


def test_a_revoked_token_is_fetched_again_and_the_send_goes_through(wechat_services, api):
    client = wechat_services().senders["wechat"]
    assert send(client, Outbound("一")).ok
    api.revoke_tokens()
    assert send(client, Outbound("二")).ok
    assert len(api.calls("token")) == 2 and api.sent_texts() == ["一", "二"]


@pytest.mark.parametrize("errcode", [45015, 45047])
def test_window_and_quota_refusals_are_recorded_and_not_retried(wechat_services, api, errcode):
    services = wechat_services()
    key = subscribe(services)
    api.fail("message/custom/send", errcode)
    result = send(services.senders["wechat"], Outbound("提醒"))
    assert (result.status, result.error) == ("unreachable", str(errcode))
    assert len(api.calls("message/custom/send")) == 1  # asked once, not again
    assert reach(services, key) == (False, str(errcode))


def test_writing_again_makes_a_refused_subscriber_reachable(open_wechat, sqlite_url, api):
    wx, services, _ = open_wechat(sqlite_url)
    key = subscribe(services)
    api.fail("message/custom/send", 45015)
    assert send(services.senders["wechat"], Outbound("提醒")).status == "unreachable"
    assert reach(services, key) == (False, "45015")
    assert wx.say(USER, "你好")
    assert reach(services, key) == (True, None)
    assert send(services.senders["wechat"], Outbound("提醒")).ok


def test_an_opted_out_subscriber_gets_no_push_but_still_gets_replies(open_wechat, sqlite_url, api):
    wx, services, _ = open_wechat(sqlite_url)
    subscribe(services)
    assert wx.post(wx.event(USER, "unsubscribe")).text == "success"
    client = services.senders["wechat"]
    assert send(client, Outbound("活动提醒")).status == "blocked"
    assert asyncio.run(client.send_texts(USER, ["您问的问题的答案"])).ok
    assert api.sent_texts(USER) == ["您问的问题的答案"]


def test_nothing_is_sent_outside_the_48_hour_window(wechat_services, api):
    services = wechat_services()
    key = subscribe(services, hours_ago=49)
    result = send(services.senders["wechat"], Outbound("提醒"))
    assert result.status == "unreachable" and api.calls("message/custom/send") == []
    assert reach(services, key) == (False, "45015")
    subscribe(services, "oAnotherUser0000000000000001", hours_ago=47)
    assert send(services.senders["wechat"], Outbound("提醒"), to="oAnotherUser0000000000000001").ok


def test_other_refusals_map_to_blocked_retry_and_failed(wechat_services, api):
    client = wechat_services().senders["wechat"]
    for errcode, status in ((43004, "blocked"), (45009, "retry"), (-1, "retry"), (40008, "failed")):
        api.fail("message/custom/send", errcode)
        result = send(client, Outbound("x"))
        assert (result.status, result.error) == (status, str(errcode))
    assert send(client, Outbound("x")).ok


def test_buttons_and_long_texts_become_numbered_lines_and_pages(wechat_services, api):
    client = wechat_services().senders["wechat"]
    long = "\n".join(f"第{i}条：请大家提高警惕，不要相信高息揽储、保本保息的宣传。" for i in range(60))
    assert send(client, Outbound(long, (Button("我要举报"), Button("订阅防骗提醒")))).ok
    texts = api.sent_texts(USER)
    assert len(texts) >= 2 and all(len(t.encode("utf-8")) <= 2048 for t in texts)
    assert texts[-1].endswith("1. 我要举报\n2. 订阅防骗提醒")
    assert "".join(texts).count("请大家提高警惕") == 60


def test_menu_command_pushes_the_menu_file(api, tmp_path, monkeypatch, sqlite_url):
    from bot.cli import main

    env = {"FUNDGUARD_DATABASE_URL": sqlite_url, "FUNDGUARD_DATA_DIR": str(tmp_path / "data"),
           "FUNDGUARD_KDF_STRENGTH": "min", "FUNDGUARD_WECHAT_TOKEN": "t", "FUNDGUARD_WECHAT_APP_ID": APP_ID,
           "FUNDGUARD_WECHAT_APP_SECRET": SECRET, "FUNDGUARD_WECHAT_API_BASE": api.base_url}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    dry = CliRunner().invoke(main, ["wechat", "menu", "--dry-run"])
    assert dry.exit_code == 0 and api.requests == []
    expected = Menu.load(REPO / "content" / "wechat_menu.yaml").to_wechat()
    assert json.loads(dry.output) == expected
    pushed = CliRunner().invoke(main, ["wechat", "menu"])
    assert pushed.exit_code == 0, pushed.output
    assert [c.body for c in api.calls("menu/create")] == [expected]
    api.fail("menu/create", 40018)
    refused = CliRunner().invoke(main, ["wechat", "menu"])
    assert refused.exit_code != 0 and "40018" in refused.output
