"""Rules around WeChat pushes: the 群发 quota per local calendar month, the events that carry results
and consents, and what the campaign stats show."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.bootstrap.campaigns import campaign_service
from bot.campaigns.config import CampaignConfig
from bot.campaigns.service import CampaignError
from bot.campaigns.wechat_subscribe import parse_fields
from bot.channels.wechat.protocol import WeChatProtocol
from tests.fakes.wechat_api import WeChatPusher
from tests.fakes.wechat_push import MassJob, finish_xml, popup_xml

TZ = ZoneInfo("Asia/Shanghai")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ)


def test_the_mass_quota_counts_local_calendar_months(make_services, sqlite_url):
    svc = make_services(sqlite_url)
    service = campaign_service(svc, CampaignConfig(quiet_hours="", wechat_mass_quota=2))
    mass = dict(audiences=["elderly"], wechat_path="mass", force=True)
    service.create("elderly_family_help", at=local(2027, 6, 1, 9, 0), **mass)
    late = service.create("elderly_pension_projects", at=local(2027, 6, 30, 23, 30), **mass)  # 15:30 UTC
    with pytest.raises(CampaignError, match="quota for 2027-06 is used up: 2 of 2"):
        service.create("public_report", at=local(2027, 6, 15, 10, 0), **mass)
    july = service.create("public_report", at=local(2027, 7, 1, 0, 30), **mass)  # still June 30 in UTC
    assert july.id
    service.cancel(late.id)  # cancelled before it sent anything: it no longer counts
    service.create("public_three_signs", at=local(2027, 6, 20, 10, 0), **mass)
    with pytest.raises(CampaignError, match="quota for 2027-06"):
        service.reschedule(july.id, local(2027, 6, 25, 10, 0))  # moving into a full month is refused too
    service.create("public_three_signs", at=local(2027, 6, 21, 10, 0), audiences=["elderly"])  # service path
    with pytest.raises(CampaignError, match="already goes by 群发 in campaign"):  # a repeat needs --force
        service.create("public_three_signs", at=local(2027, 7, 2, 10, 0), audiences=["elderly"], wechat_path="mass")
    svc.db.dispose()


def test_finish_and_consent_events_are_read_with_their_details():
    protocol = WeChatProtocol("ruleToken")
    pusher = WeChatPusher(None, token="ruleToken", app_id="wxrules")
    job = MassJob(1000077, 101, "text", None, "c", ["oA", "oB", "oC"], ["oA", "oB"])
    msg, _ = protocol.open(*pusher.request(finish_xml(pusher.account, job)))
    assert (msg.event, msg.extra) == ("mass_finish", {"msg_id": "1000077", "status": "send success", "total": "3",
                                                      "filtered": "2", "sent": "2", "errors": "0"})
    assert msg.dedupe_key.endswith(":mass_finish:1000077")  # two jobs finishing in one second stay two
    bad = finish_xml(pusher.account, job).replace("<MsgID>1000077</MsgID>", "<MsgID>12;drop</MsgID>")
    assert "msg_id" not in protocol.open(*pusher.request(bad))[0].extra
    msg, _ = protocol.open(*pusher.request(popup_xml(pusher.account, "oPerson0001", "TPL_a-1", accept=False)))
    assert (msg.event, msg.user, msg.extra) == ("subscribe_msg", "oPerson0001", {"TPL_a-1": "reject"})


def test_subscribe_fields_are_configurable():
    assert parse_fields("thing1=title, thing2=summary,time3=date,bad") == {
        "thing1": "title", "thing2": "summary", "time3": "date"}
