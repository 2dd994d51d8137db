"""The push APIs through wechatpy's client against the fake WeChat API: the platform's rules and
errcodes reach our code as WeChatApiError, and our tag mirror adopts tags made elsewhere."""

from __future__ import annotations

import pytest

from bot.bootstrap.campaigns import tag_sync
from bot.campaigns.config import CampaignConfig
from bot.channels.wechat.client import WeChatApiError
from tests.fakes.wechat_api import FakeWeChatAPI

APP_ID, SECRET = "wxpushapitest0001", "push-api-secret"


@pytest.fixture
def wx(make_services, sqlite_url):  # type: ignore[no-untyped-def]
    with FakeWeChatAPI(APP_ID, SECRET) as api:
        svc = make_services(sqlite_url, wechat_app_id=APP_ID, wechat_app_secret=SECRET, wechat_api_base=api.base_url,
                            wechat_token="pushapitoken")
        yield api, svc, svc.senders["wechat"].push_api()
        svc.db.dispose()


def code_of(call) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(WeChatApiError) as err:
        call()
    return err.value.code


def test_tag_rules_and_errcodes(wx):
    api, _, push = wx
    tag = push.create_tag("防非·老年人及家属")
    assert push.tags() == {"防非·老年人及家属": tag}
    assert code_of(lambda: push.create_tag("防非·老年人及家属")) == "45157"  # the name exists
    assert code_of(lambda: push.create_tag("长" * 31)) == "45158"
    assert code_of(lambda: push.tag_users(tag, [f"oUser{i:08d}" for i in range(51)])) == "40032"  # > 50
    api.push.unfollowed.add("oGone0000001")
    assert code_of(lambda: push.tag_users(tag, ["oUser00000001", "oGone0000001"])) == "40003"
    assert api.push.tagged("防非·老年人及家属") == set()  # a refused batch tags nobody
    push.tag_users(tag, ["oUser00000001", "oUser00000002"])
    push.untag_users(tag, ["oUser00000001"])
    assert api.push.tagged("防非·老年人及家属") == {"oUser00000002"}
    api.fail("tags/members/batchtagging", 45009)
    assert code_of(lambda: push.tag_users(tag, ["oUser00000003"])) == "45009"


def test_mass_send_needs_tag_id_uploads_and_quota(wx):
    api, svc, push = wx
    tag = push.create_tag("防非·大学生和应届毕业生")
    push.tag_users(tag, ["oStudent0001"])
    sdk = svc.senders["wechat"]._sdk
    # wechatpy's own send_mass_text still filters by the old group_id: the platform wants tag_id
    assert code_of(lambda: _legacy(sdk, tag)) == "47001"
    msg_id = push.send_mass(tag, "text", {"content": "【提醒】保本高息是陷阱。"}, "fg-test-1")
    assert msg_id == str(api.push.jobs[0].msg_id) and api.push.jobs[0].recipients == ["oStudent0001"]
    assert code_of(lambda: push.send_mass(tag, "text", {"content": "再发一次"}, "fg-test-1")) == "45065"
    assert code_of(lambda: push.send_mass(999, "text", {"content": "x"}, "fg-test-2")) == "45159"
    assert code_of(lambda: push.upload_thumb(b"GIF89a not a jpeg")) == "40004"
    thumb = push.upload_thumb(b"\xff\xd8\xff\xe0" + bytes(100))
    assert code_of(lambda: push.upload_news([{"thumb_media_id": "nope", "title": "t", "content": "c"}])) == "40007"
    news = push.upload_news([{"thumb_media_id": thumb, "title": "标题", "content": "<p>正文</p>"}])
    api.push.mass_quota = 0
    assert code_of(lambda: push.send_mass(tag, "mpnews", {"media_id": news}, "fg-test-3")) == "45028"


def _legacy(sdk, tag: int):  # type: ignore[no-untyped-def]
    try:
        return sdk.message.send_mass_text(tag, "你好")
    except Exception as exc:
        raise WeChatApiError(str(getattr(exc, "errcode", exc))) from exc


def test_the_mirror_adopts_a_tag_made_by_hand_and_a_monthly_limit_filters(wx):
    api, svc, push = wx
    made = push.create_tag("防非·老年人及家属")  # an editor made it in the 公众平台 before
    sync = tag_sync(svc, CampaignConfig(wechat_tag_rate=0))
    assert sync.ensure_tags(["audience:elderly"]) == {"audience:elderly": made}
    assert len(api.calls("tags/create")) == 1  # not made again
    push.tag_users(made, ["oOld00000001"])
    for i in range(5):
        push.send_mass(made, "text", {"content": f"第{i + 1}条"}, f"fg-month-{i}")
    assert [len(j.delivered) for j in api.push.jobs] == [1, 1, 1, 1, 0]  # a 服务号 reaches a person 4 times


def test_sync_tags_command_tags_everyone_and_says_what_it_did(wx, monkeypatch, tmp_path):
    from click.testing import CliRunner
    from sqlalchemy import insert

    from bot.cli import main as cli
    from bot.store.models import Subscriber, utcnow

    api, svc, _ = wx
    now = utcnow()
    with svc.db.begin() as conn:
        conn.execute(insert(Subscriber), [
            {"key": svc.hasher.digest("chat", f"wechat:oCli{i:08d}"), "channel": "wechat",
             "sealed_chat_id": svc.drafts.encrypt_json(f"oCli{i:08d}"), "audience": "student",
             "county": "hanyin" if i % 2 else None, "opted_in": True, "reachable": True, "last_interaction": now,
             "created_at": now, "updated_at": now} for i in range(60)])
    s = svc.settings
    for name, value in {"ENVIRONMENT": "test", "DATA_DIR": str(s.data_dir), "DATABASE_URL": s.database_url,
                        "SECRET_KEY": s.secret_key, "KDF_STRENGTH": "min", "WECHAT_APP_ID": APP_ID,
                        "WECHAT_APP_SECRET": SECRET, "WECHAT_API_BASE": api.base_url}.items():
        monkeypatch.setenv(f"FUNDGUARD_{name}", value)
    monkeypatch.delenv("FUNDGUARD_TELEGRAM_TOKEN", raising=False)
    result = CliRunner().invoke(cli, ["wechat", "sync-tags", "--rate", "0"])
    assert result.exit_code == 0, result.output
    assert "tags created 2, tagged 90, untagged 0" in result.output and "API calls 3" in result.output
    assert "防非·大学生和应届毕业生" in result.output and "+60" in result.output
    assert len(api.push.tagged("防非·汉阴县")) == 30
    again = CliRunner().invoke(cli, ["wechat", "sync-tags"])
    assert "tagged 0, untagged 0" in again.output and "API calls 0" in again.output
