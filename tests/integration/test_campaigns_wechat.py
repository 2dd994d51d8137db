"""A WeChat campaign on the embedded default (no Redis: the actors run in-process on a StubBroker),
through the real WeChatClient to the fake WeChat API: only people inside the 48-hour window get it."""

from __future__ import annotations

from datetime import timedelta

from bot.bootstrap.campaigns import campaign_runtime, campaign_service
from bot.campaigns.config import CampaignConfig
from bot.campaigns.stats import campaign_stats
from bot.campaigns.worker import run_worker
from bot.store.models import utcnow
from bot.store.subscribers import SubscriberRepository
from tests.fakes.wechat_api import FakeWeChatAPI

APP_ID, APP_SECRET = "wxcampaigntest0001", "campaign-test-secret"


def test_a_wechat_campaign_reaches_only_people_inside_the_window(make_services, sqlite_url):
    with FakeWeChatAPI(APP_ID, APP_SECRET) as api:
        svc = make_services(sqlite_url, wechat_app_id=APP_ID, wechat_app_secret=APP_SECRET,
                            wechat_api_base=api.base_url, wechat_token="campaigntoken")
        assert "wechat" in svc.senders and not svc.settings.redis_url
        people = {"o_recent": 2, "o_old": 60, "o_quota": 5}  # hours since their last message
        with svc.uow() as uow:
            repo = SubscriberRepository(uow.session)
            for openid, hours in people.items():
                sub = repo.subscribe(svc.hasher.digest("chat", f"wechat:{openid}"), "wechat",
                                     svc.drafts.encrypt_json(openid), "finance_staff", "hanbin")
                sub.last_interaction = utcnow() - timedelta(hours=hours)
            uow.commit()
        api.fail("message/custom/send", 45047)  # the first call: "too many messages to this person"
        cfg = CampaignConfig(quiet_hours="", tick_seconds=0.2, drains=1, worker_threads=1)
        cid = campaign_service(svc, cfg).create("finance_flying_orders").id
        run_worker(campaign_runtime(svc, cfg), install_signals=False,
                   until=lambda rt: rt.campaigns.get(cid).status == "done")
        delivered = {r.body["touser"]: r.body["text"]["content"] for r in api.calls("message/custom/send")
                     if r.errcode == 0}
        refused = [r.body["touser"] for r in api.calls("message/custom/send") if r.errcode != 0]
        assert "o_old" not in delivered and "o_old" not in refused  # outside the window: never called
        assert len(delivered) == 1 and len(refused) == 1 and set(delivered) | set(refused) == {"o_recent", "o_quota"}
        text = next(iter(delivered.values()))
        assert text.startswith("【守住柜台：不卖“飞单”】") and "回复“退订”" in text and "“有哪些举报渠道”" in text
        s = campaign_stats(svc.sessions, cid)
        assert (s.total.planned, s.total.sent, s.total.not_reachable) == (3, 1, 2)
        assert s.by_audience["finance_staff"].sent == 1 and s.by_county["hanbin"].planned == 3
        svc.db.dispose()
