"""What opens the tip flow (bot.dialogue.tipwords, through the engine and the chat API), and what only asks about
reporting; the Telegram adapter follows the same table (bot.dialogue.flows)."""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path

import pytest

from bot.channels.telegram.dialogue import TelegramDialogue
from bot.channels.telegram.inbound import Incoming
from bot.dialogue import flows
from bot.messages import Inbound
from tests.integration.test_chat_api import say, text_of

STORY = "石泉县有个鑫盛合作社，让我爸入股一万，每年分红两千，说到期退本"
# each opens a tip; without a story of its own, the story told before is offered
POINTING = ["我要举报他们", "举报他们", "我想投诉这个公司", "我想去投诉这个合作社", "我想把这个公司举报了",
            "那我举报这个国链币", "帮我举报它", "能帮我举报不", "俺要举报", "好 我去举报他们", "帮俺报上去", "告他们",
            "我要举报他们，能不能不留名字"]
TELLING = ["举报石泉县鑫盛合作社，每月返息三分，一百多万", "我要投诉石泉县鑫盛合作社每月返息三分"]
ASKING = {"举报有奖励吗": "report_reward", "怎么举报": "report_how", "举报电话多少": "report_how",
          "举报了会不会泄露我的身份": "report_confidential", "咋报警，在哪报": "report_how",
          "投诉电话是多少": "report_how"}


@pytest.mark.parametrize("said", POINTING)
def test_a_request_opens_the_tip_and_offers_the_story_told_before(sqlite_client, said):
    me = f"p{POINTING.index(said)}"
    fresh = say(sqlite_client, "fresh-" + me, said)
    assert fresh["topic"] == "report_start" and fresh["expects"] == "region"
    say(sqlite_client, "told-" + me, STORY)
    tip = say(sqlite_client, "told-" + me, said)
    assert tip["topic"] == "report_start" and tip["expects"] == "description"
    assert "您刚才说的情况" in text_of(tip) and "鑫盛合作社" in text_of(tip)
    assert say(sqlite_client, "told-" + me, "对")["expects"] not in ("description", "region")  # county told


@pytest.mark.parametrize("said", TELLING)
def test_a_request_with_its_story_takes_what_the_story_tells(sqlite_client, said):
    me = f"t{TELLING.index(said)}"
    for user in ("alone-" + me, "after-" + me):
        if user.startswith("after"):
            say(sqlite_client, user, STORY)
        tip = say(sqlite_client, user, said)
        assert tip["topic"] == "report_start" and "您刚才说的情况" not in text_of(tip)
        assert tip["expects"] not in ("region", "description")  # 石泉县 and what they do came with it
    while tip["expects"] != "confirm":
        tip = say(sqlite_client, "after-" + me, "匿名" if tip["expects"] == "contact" else "跳过")
    assert "鑫盛合作社" in text_of(tip) and "返息三分" in text_of(tip)


@pytest.mark.parametrize("said,topic", ASKING.items())
def test_a_question_about_reporting_is_answered_not_taken_as_a_tip(sqlite_client, said, topic):
    me = f"a{list(ASKING).index(said)}"
    body = say(sqlite_client, "asks-" + me, said)
    assert body["topic"] == topic and body["expects"] is None
    say(sqlite_client, "asks-after-" + me, STORY)
    after = say(sqlite_client, "asks-after-" + me, said)
    assert after["topic"] == topic and after["expects"] is None


# -- the Telegram adapter and the engine read one table -----------------------------------------------------
def _respond(services, text: str, private: bool = False, user: str = "7@-100"):  # type: ignore[no-untyped-def]
    async def download(file_id: str) -> bytes | None:
        return None

    dialogue = TelegramDialogue(services.turns, services.sessions, "fundguard_bot", download)
    inc = Incoming(chat_id=-100 if not private else 7, user=user, private=private, text=text, message_id=1)
    return asyncio.run(dialogue.respond(inc))


@pytest.mark.parametrize("said", POINTING + TELLING)
def test_telegram_sends_every_tip_request_in_a_group_to_the_private_chat(make_services, sqlite_url, said):
    services = make_services(sqlite_url)
    replies = _respond(services, said)
    assert len(replies) == 1 and replies[0].link is not None and replies[0].link[1].endswith("?start=report")
    assert services.engine.open_flow(Inbound(channel="telegram", user="7@-100")) is None
    services.db.dispose()


def test_the_engine_never_begins_a_private_flow_in_a_group(make_services, sqlite_url):
    services = make_services(sqlite_url)
    engine = services.engine
    for flow in flows.FLOWS:
        for topic in flow.topics:
            label = next(label for label, t in engine._buttons.items() if t == topic)
            msg = Inbound(channel="telegram", user=f"{flow.name}@-100", text=label, private=False)
            turn = engine.handle(msg)
            assert (engine.open_flow(msg) is None) == flow.private, flow.name
            assert (turn.replies[0].text == flow.in_group) == flow.private
            assert (turn.topic in flows.PRIVATE_TOPICS) == flow.private  # what the adapter hides in a group
    receipt = _respond(services, "查询 ABCDE-FGHJK-MNPQR-STVWX")  # opened by its words: a private flow
    assert receipt[0].link is not None and receipt[0].link[1].endswith("?start=hi")
    services.db.dispose()


def test_the_telegram_adapter_keeps_no_flow_table_of_its_own():
    """Private flows, their words, the pictures they keep and the open flow: from the engine and its table only."""
    package = Path(__file__).parents[2] / "bot" / "channels"
    for path in [*package.glob("telegram/*.py"), *package.glob("wechat/*.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        names |= {a.attr for a in ast.walk(tree) if isinstance(a, ast.Attribute)}
        assigned = {t.id for n in ast.walk(tree) if isinstance(n, ast.Assign) for t in n.targets
                    if isinstance(t, ast.Name)}
        assert not assigned & {"PRIVATE_TOPICS", "PRIVATE_FLOWS", "IMAGE_FLOWS", "TIP_REQUEST"}, path.name
        assert "Conversation" not in names, path.name  # the open flow is asked of the engine
        assert not ({"SubscriberRepository", "unsubscribe"} <= names and "unsubscribe(" in
                    path.read_text(encoding="utf-8").replace("engine.unsubscribe(", "")
                    .replace("def unsubscribe(", "").replace("self.unsubscribe(", "")), path.name
    assert flows.keeps_images("tip") and flows.keeps_images("status") and not flows.keeps_images("subscribe")
