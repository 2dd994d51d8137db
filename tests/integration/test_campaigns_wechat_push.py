"""WeChat pushes by the platform's own mechanisms, end to end against the fake WeChat API on localhost:
user tags mirroring audiences, 群发 by tag with its monthly quota and its MASSSENDJOBFINISH event
(posted back to the app's /wechat, encrypted as in safe mode), and 订阅通知 with consent."""

from __future__ import annotations

import base64
import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select

from bot.bootstrap.campaigns import campaign_runtime, campaign_service, mass_runner, tag_sync
from bot.campaigns.config import CampaignConfig
from bot.campaigns.service import CampaignError
from bot.campaigns.stats import campaign_stats, format_stats
from bot.campaigns.worker import run_worker
from bot.store.campaign_models import Delivery, WeChatMassJob, WeChatTagMember
from bot.store.models import Subscriber, utcnow
from tests.fakes.wechat_api import FakeWeChatAPI, WeChatPusher
from tests.fakes.wechat_push import popup_xml
from webhook.app import create_app

TOKEN, APP_ID, SECRET = "pushTestToken", "wxpushtest000001", "push-test-secret"
AES_KEY = base64.b64encode(bytes(range(1, 33))).decode().rstrip("=")
GROUPS = ("elderly", "student", "finance_staff", "civil_servant", "public")
CFG = dict(quiet_hours="", tick_seconds=0.2, drains=2, worker_threads=2, wechat_tag_rate=0)


@pytest.fixture
def push(make_services, db_url):  # type: ignore[no-untyped-def]
    """(fake API, services, pusher): the app serves /wechat in safe mode; the fake posts its events there."""
    with FakeWeChatAPI(APP_ID, SECRET) as api:
        svc = make_services(db_url, wechat_token=TOKEN, wechat_app_id=APP_ID, wechat_app_secret=SECRET,
                            wechat_api_base=api.base_url, wechat_aes_key=AES_KEY)
        with TestClient(create_app(services=svc), raise_server_exceptions=False) as http:
            pusher = WeChatPusher(http, token=TOKEN, app_id=APP_ID, aes_key=AES_KEY, mode="safe")
            api.push.callback = pusher
            yield api, svc, pusher
            api.push.quiesce()  # before the app stops: no event posted into a client that is closing
        svc.db.dispose()


def add(svc, n: int, *, first: int = 0, audience: str | None = None, counties: bool = True,  # type: ignore[no-untyped-def]
        hours_ago: float = 1.0) -> list[str]:
    """n WeChat subscribers (openids sealed, keys hashed as the subscribe flow does it)."""
    codes = [o.code for o in svc.offices.counties] + [None]
    now = utcnow() - timedelta(hours=hours_ago)
    openids = [f"oPushTest{first + i:010d}" for i in range(n)]
    rows = [{"key": svc.hasher.digest("chat", f"wechat:{o}"), "channel": "wechat",
             "sealed_chat_id": svc.drafts.encrypt_json(o), "audience": audience or GROUPS[i % 5],
             "county": codes[i % len(codes)] if counties else None, "opted_in": True, "reachable": True,
             "last_interaction": now, "created_at": now, "updated_at": now} for i, o in enumerate(openids)]
    with svc.db.begin() as conn:
        conn.execute(insert(Subscriber), rows)
    return openids


def accepted_tagging(api: FakeWeChatAPI) -> list[list[str]]:
    return [r.body["openid_list"] for r in api.calls("tags/members/batchtagging") if r.errcode == 0]


def test_tags_mirror_1000_subscribers_in_batches_resumably_and_idempotently(push):
    api, svc, _ = push
    openids = add(svc, 1000)
    sync = tag_sync(svc, CampaignConfig(**CFG))
    api.fail("tags/members/batchtagging", 45009)  # the day's quota runs out at once ...
    first = sync.run()
    assert first.stopped == "45009" and first.tagged == 0
    second = sync.run()  # ... and the next day's run does it all
    with svc.sessions() as s:
        with_county = s.scalar(select(func.count()).where(Subscriber.county.is_not(None)))
    assert second.stopped is None and second.tagged == 1000 + with_county == 1910
    by_name = {name: tid for tid, name in api.push.tags.items()}
    assert len(by_name) == 15 and by_name.keys() >= {"防非·老年人及家属", "防非·大学生和应届毕业生", "防非·汉滨区"}
    batches = accepted_tagging(api)
    assert max(len(b) for b in batches) == 50 and sum(len(b) for b in batches) == second.tagged  # none twice
    with svc.sessions() as s:
        subs = {svc.drafts.decrypt_json(x.sealed_chat_id): x for x in s.scalars(select(Subscriber))}
        areas = {o.code: o.area for o in svc.offices.counties}
    for openid in openids:
        sub = subs[openid]
        assert openid in api.push.members[by_name[sync.tag_name(f"audience:{sub.audience}")]]
        county_tags = {by_name[f"防非·{areas[c]}"] for c in areas}
        has = {t for t in county_tags if openid in api.push.members[t]}
        assert has == ({by_name[f"防非·{areas[sub.county]}"]} if sub.county else set())
    calls = len(api.requests)
    again = sync.run()
    assert (again.tagged, again.untagged, again.calls, len(api.requests)) == (0, 0, 0, calls)  # idempotent

    api.push.unfollowed.add(openids[7])  # left WeChat: its batch is refused with 40003 and split
    with svc.sessions() as s:
        s.execute(WeChatTagMember.__table__.delete())
        s.commit()
    api.push.members.clear()
    redo = sync.run()
    assert len(redo.not_followers) == 1 and redo.tagged == second.tagged - (2 if subs[openids[7]].county else 1)
    with svc.sessions() as s:
        assert s.scalar(select(Subscriber.last_error).where(Subscriber.id == subs[openids[7]].id)) == "40003"
    assert sync.run().calls == 0  # not tried again until they write to the account again


def run_campaign(svc, cfg: CampaignConfig, cid: int) -> None:  # type: ignore[no-untyped-def]
    run_worker(campaign_runtime(svc, cfg), install_signals=False,
               until=lambda rt: rt.campaigns.get(cid).status == "done")


def wait_finished(svc, cid: int, jobs: int, timeout: float = 10.0) -> list[WeChatMassJob]:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        with svc.sessions() as s:
            rows = list(s.scalars(select(WeChatMassJob).where(WeChatMassJob.campaign_id == cid)))
        if sum(r.state == "finished" for r in rows) == jobs or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)


def test_a_campaign_by_tag_sends_one_mass_message_per_tag_records_the_result_and_respects_the_quota(
        push, tmp_path):
    api, svc, pusher = push
    elderly = add(svc, 30, audience="elderly", hours_ago=200)  # far outside the 48-hour window
    students = add(svc, 20, first=100, audience="student", hours_ago=200)
    add(svc, 10, first=200, audience="public")  # not in this campaign
    cover = tmp_path / "cover.jpg"
    cover.write_bytes(b"\xff\xd8\xff\xe0" + bytes(2000))
    cfg = CampaignConfig(**CFG, wechat_mass_quota=4)
    service = campaign_service(svc, cfg)
    api.push.event_delay = 0.0  # the result may overtake the worker's note of the msg_id
    cid = service.create("elderly_family_help", audiences=["elderly", "student"], wechat_path="mass").id
    run_campaign(svc, cfg, cid)

    sends = [r for r in api.calls("message/mass/sendall") if r.errcode == 0]
    assert len(sends) == 2 and len(api.push.jobs) == 2  # one mass message per tag
    tags = {api.push.tags[r.body["filter"]["tag_id"]] for r in sends}
    assert tags == {"防非·老年人及家属", "防非·大学生和应届毕业生"}
    assert all(r.body["msgtype"] == "text" and r.body["text"]["content"].startswith("【子女怎样帮老人守住钱袋子】")
               for r in sends)
    assert {frozenset(j.recipients) for j in api.push.jobs} == {frozenset(elderly), frozenset(students)}
    assert not api.calls("message/custom/send")  # nobody was reached by customer service

    jobs = wait_finished(svc, cid, 2)  # MASSSENDJOBFINISH, posted encrypted to /wechat by the fake
    assert all(j.event_status == 200 for j in api.push.jobs)
    results = sorted((j.state, j.total, j.sent, j.errors) for j in jobs)
    assert results == [("finished", 20, 20, 0), ("finished", 30, 30, 0)]
    stats = campaign_stats(svc.sessions, cid)
    assert stats.wechat_path == "mass" and stats.via == {"mass": 50} and stats.total.sent == 50
    assert "群发 audience:elderly" in format_stats(stats) and "total 30, filtered 30, sent 30" in format_stats(stats)

    # the quota: 4 a calendar month, counted in the database; the fifth is refused at creation
    made = [service.create(p, audiences=["elderly"], wechat_path="mass").id
            for p in ("elderly_pension_projects", "public_three_signs", "public_report")]
    with pytest.raises(CampaignError) as refused:
        service.create("student_fake_job", audiences=["student"], wechat_path="mass")
    month = utcnow().astimezone(service.quiet.tz).strftime("%Y-%m")
    assert f"quota for {month} is used up: 4 of 4" in str(refused.value)
    assert ", ".join(str(i) for i in [cid, *made]) in str(refused.value)
    nxt = service.create("student_fake_job", audiences=["student"], wechat_path="mass",
                         at=utcnow() + timedelta(days=40))  # next month has its own quota
    assert nxt.wechat_path == "mass"
    service.create("student_fake_job", audiences=["student"])  # customer service: no quota

    # the article form: a cover uploaded, the piece as 图文, sent as mpnews
    for other in made[1:]:
        service.cancel(other)
    cfg2 = CampaignConfig(**CFG, wechat_mass_quota=4, wechat_mass_thumb=str(cover))
    run_campaign(svc, cfg2, made[0])
    news = [r for r in api.calls("message/mass/sendall") if r.errcode == 0][-1]
    assert news.body["msgtype"] == "mpnews" and news.body["mpnews"]["media_id"] in api.push.news
    article = api.push.news[news.body["mpnews"]["media_id"]][0]
    assert article["title"] == service.library.pieces["elderly_pension_projects"].title
    assert article["thumb_media_id"] in api.push.thumbs


def test_a_subscriber_who_unsubscribes_is_untagged_before_the_next_mass_send(push):
    api, svc, pusher = push
    people = add(svc, 12, audience="elderly")
    cfg = CampaignConfig(**CFG)
    service = campaign_service(svc, cfg)
    first = service.create("elderly_family_help", audiences=["elderly"], wechat_path="mass").id
    run_campaign(svc, cfg, first)
    assert set(api.push.jobs[0].recipients) == set(people)

    leaving = people[4]
    assert pusher.say(leaving, "退订") is not None  # in chat, as a person would
    with svc.sessions() as s:
        assert s.scalar(select(Subscriber.opted_in).where(
            Subscriber.key == svc.hasher.digest("chat", f"wechat:{leaving}"))) is False
    second = service.create("elderly_pension_projects", audiences=["elderly"], wechat_path="mass").id
    run_campaign(svc, cfg, second)

    endpoints = [(r.endpoint, r.body) for r in api.requests if r.errcode == 0 and r.method == "POST"]
    untag = next(i for i, (e, b) in enumerate(endpoints) if e == "tags/members/batchuntagging")
    send2 = [i for i, (e, _) in enumerate(endpoints) if e == "message/mass/sendall"][1]
    assert endpoints[untag][1]["openid_list"] == [leaving] and untag < send2  # untagged first
    assert set(api.push.jobs[1].recipients) == set(people) - {leaving}
    with svc.sessions() as s:
        states = dict(s.execute(select(Subscriber.key, Delivery.state).join(
            Delivery, Delivery.subscriber_id == Subscriber.id).where(Delivery.campaign_id == second)).all())
    assert svc.hasher.digest("chat", f"wechat:{leaving}") not in states  # not planned: opted out
    assert list(states.values()).count("sent") == 11 == len(states)


def test_mass_send_errors_wait_or_fail_as_the_platform_says(push):
    api, svc, _ = push
    add(svc, 6, audience="student")
    cfg = CampaignConfig(**CFG)
    service = campaign_service(svc, cfg)
    campaign = service.create("student_fake_job", audiences=["student"], wechat_path="mass")
    assert service.start(campaign.id, ["wechat"]) == 6
    runner = mass_runner(svc, cfg, service.library)
    api.fail("message/mass/sendall", 45009)  # the day's API quota
    assert runner.run(service.get(campaign.id)) == ("later", 600.0)
    assert runner.run(service.get(campaign.id)) == ("done", 0.0)  # tried again: sent once
    assert len(api.push.jobs) == 1

    other = service.create("student_online_groups", audiences=["student"], wechat_path="mass")
    service.start(other.id, ["wechat"])
    api.push.mass_quota = 0  # 45028: no mass-send quota left on the account
    assert runner.run(service.get(other.id)) == ("done", 0.0)
    s = campaign_stats(svc.sessions, other.id)
    assert s.total.failed == 6 and s.mass_jobs[0]["error"] == "45028" and s.mass_jobs[0]["state"] == "failed"


def test_subscribe_messages_go_to_people_who_accepted_else_customer_service_within_48h(push):
    api, svc, pusher = push
    template = "TPL_fundguard_notice_0001"
    api.push.templates.add(template)
    consented = add(svc, 1, audience="elderly", hours_ago=300)[0]
    recent = add(svc, 1, first=10, audience="elderly", hours_ago=2)[0]
    silent = add(svc, 1, first=20, audience="elderly", hours_ago=300)[0]
    api.push.accept(consented, template)
    assert pusher.reply(pusher.post(popup_xml(pusher.account, consented, template))) is None  # heard
    cfg = CampaignConfig(**CFG, wechat_subscribe_template=template)
    service = campaign_service(svc, cfg)
    cid = service.create("elderly_family_help", audiences=["elderly"], wechat_path="subscribe").id
    reach = service.reach(cid, ["wechat"], template=template)
    assert (reach.targeted, dict(reach.reasons)) == (3, {"no_consent": 1})
    run_campaign(svc, cfg, cid)
    assert [(o, t) for o, t, _ in api.push.subscribe_sent] == [(consented, template)]
    data = api.push.subscribe_sent[0][2]
    assert data["thing1"]["value"] == "子女怎样帮老人守住钱袋子" and len(data["thing2"]["value"]) <= 20
    assert [r.body["touser"] for r in api.calls("message/custom/send")] == [recent]
    s = campaign_stats(svc.sessions, cid)
    assert s.via == {"subscribe": 1, "service": 1} and s.total.not_reachable == 1
    assert silent not in [r.body["touser"] for r in api.calls("message/custom/send")]
    with svc.sessions() as db:  # not marked unreachable: a consent given later still reaches them
        row = db.execute(select(Subscriber.reachable, Delivery.error).join(
            Delivery, Delivery.subscriber_id == Subscriber.id).where(
            Subscriber.key == svc.hasher.digest("chat", f"wechat:{silent}"))).one()
    assert tuple(row) == (True, "no_consent")


def test_workers_keep_tags_current_as_people_join_and_leave(push):
    api, svc, pusher = push
    first = add(svc, 3, audience="civil_servant", counties=False)
    cfg = CampaignConfig(**{**CFG, "wechat_tag_sync_seconds": 0.3})
    name = "防非·公务人员"

    def until(check):  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + 15
        run_worker(campaign_runtime(svc, cfg), install_signals=False,
                   until=lambda rt: check() or time.monotonic() > deadline)
        return check()

    assert until(lambda: api.push.tagged(name) == set(first))  # no campaign needed
    later = add(svc, 2, first=50, audience="civil_servant", counties=False)
    assert pusher.say(first[0], "退订") is not None
    assert until(lambda: api.push.tagged(name) == set(first[1:]) | set(later))


def test_a_mass_send_after_a_customer_service_one_says_who_gets_the_piece_again(push):
    api, svc, _ = push
    people = add(svc, 3, audience="elderly", hours_ago=2)
    cfg = CampaignConfig(**CFG)
    service = campaign_service(svc, cfg)
    first = service.create("elderly_family_help", audiences=["elderly"]).id  # customer service
    run_campaign(svc, cfg, first)
    assert sorted(r.body["touser"] for r in api.calls("message/custom/send")) == people
    again = service.create("elderly_family_help", audiences=["elderly"], wechat_path="mass").id
    seen = service.reach(again, ["wechat"])
    assert (seen.unreachable, dict(seen.reasons)) == (0, {"repeat_mass": 3})
    run_campaign(svc, cfg, again)
    assert sorted(api.push.jobs[0].recipients) == people  # a tag cannot leave them out ...
    stats = campaign_stats(svc.sessions, again)
    assert (stats.total.sent, stats.total.already_sent, stats.via) == (3, 0, {"mass": 3})  # ... and says so


def test_no_mass_send_in_quiet_hours(push):
    from zoneinfo import ZoneInfo

    from bot.bootstrap.campaigns import campaign_runtime

    api, svc, _ = push
    add(svc, 4, audience="student")
    here = utcnow().astimezone(ZoneInfo("Asia/Shanghai"))
    quiet = f"{here - timedelta(hours=1):%H:%M}-{here + timedelta(hours=1):%H:%M}"
    rt = campaign_runtime(svc, CampaignConfig(**{**CFG, "quiet_hours": quiet}))
    try:
        cid = rt.campaigns.create("student_fake_job", audiences=["student"], wechat_path="mass", force=True).id
        assert rt.campaigns.start(cid, ["wechat"]) == 4  # as if it had started just before
        result = rt.dispatcher.run(cid, "wechat", 5.0)
        assert result.outcome == "quiet" and result.wake_in > 3000
        assert not api.calls("message/mass/sendall") and not api.calls("tags/members/batchtagging")
    finally:
        rt.close()
