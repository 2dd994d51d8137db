"""From a WeChat message to an answer: which Inbound the engine gets, and the per-person memory.

Per person (keyed hash of the openid) a small sealed value in shared_values keeps the last buttons
shown as a numbered list (so "2" means the second of them) and the pages not yet shown (sent on
“更多”). It expires after a day and is overwritten by every answer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from bot.channels.wechat.client import WeChatClient
from bot.channels.wechat.errors import WeChatApiError
from bot.channels.wechat.menu import Menu
from bot.channels.wechat.protocol import WeChatMessage
from bot.channels.wechat.render import Answer, pick, render, text_answer
from bot.channels.wechat.store import SharedBox
from bot.dialogue.turns import SyncEngine
from bot.knowledge import is_more
from bot.messages import Button, Inbound, Outbound
from bot.store.uow import UnitOfWork

log = logging.getLogger(__name__)
MEMORY_TTL = 24 * 3600
WELCOME = ("欢迎关注！我是{office}的防范非法集资服务助手：能回答问题，帮您看宣传靠不靠谱，"
           "也能接收匿名举报。\n先花半分钟订阅防骗提醒吧；不想订阅，直接提问就行。")
VOICE_HELP = ("抱歉，这条语音我没能转成文字，听不到您说了什么。请您打字发给我，"
              "或者回复下面的数字，选您想办的事：")
VOICE_BUTTONS = ("帮我看看靠不靠谱", "我要举报", "什么是非法集资", "订阅防骗提醒")
IMAGE_FAILED = "图片没有收到，请再发一次；也可以用文字说明。"
OTHER_HELP = ("抱歉，这类消息我还看不懂。请发文字、语音或图片给我；"
              "想让我看看一篇文章靠不靠谱，直接把文章转发给我就行。")
EMPTY_LINK = "这篇文章我没看到标题和内容，请把里面的宣传文字复制发给我。"


class Memory:
    """The last buttons and the unsent pages of one person, sealed, shared by all workers."""

    def __init__(self, box: SharedBox, digest: Callable[[str, str], str]) -> None:
        self._box = box
        self._digest = digest

    def _name(self, openid: str) -> str:
        return "wxu:" + self._digest("wechat-memory", openid)[:56]

    def load(self, openid: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        data: Any = self._box.get(self._name(openid)) or {}
        buttons = tuple(str(b) for b in data.get("buttons", [])) if isinstance(data, dict) else ()
        more = tuple(str(p) for p in data.get("more", [])) if isinstance(data, dict) else ()
        return buttons, more

    def save(self, openid: str, buttons: tuple[str, ...], more: tuple[str, ...]) -> None:
        if buttons or more:
            self._box.put(self._name(openid), {"buttons": list(buttons), "more": list(more)}, MEMORY_TTL)
        else:
            self._box.delete(self._name(openid))

    def forget(self, openid: str) -> None:
        self._box.delete(self._name(openid))


class WeChatDialogue:
    """Synchronous, like the engine: the gateway runs `answer` in a turn thread (TurnRunner.run)."""

    def __init__(self, *, engine: SyncEngine, uow: Callable[[], UnitOfWork], menu: Menu, memory: Memory,
                 client: WeChatClient | None, office_name: str) -> None:
        self._engine = engine
        self._uow = uow
        self._menu = menu
        self.memory = memory
        self._client = client
        self._welcome = WELCOME.format(office=office_name)

    def answer(self, msg: WeChatMessage) -> Answer:
        """The answer to one message (no pages: reply `success` and say nothing)."""
        if self._client is not None and msg.event not in ("unsubscribe", "other", "mass_finish", "subscribe_msg"):
            self._client.note_interaction(msg.user)  # what WeChat counts as an interaction
        if msg.kind == "event":
            return self._event(msg)
        if msg.kind == "text":
            buttons, more = self.memory.load(msg.user)
            if more and is_more(msg.text):
                return Answer(more, buttons)
            return self._ask(msg.user, pick(msg.text, buttons) or msg.text)
        if msg.kind == "voice":
            if not msg.text:  # many accounts no longer get Recognition: say so, and offer what we can do
                return render((Outbound(VOICE_HELP, tuple(Button(b) for b in VOICE_BUTTONS)),))
            return self._ask(msg.user, msg.text, kind="voice")
        if msg.kind == "image":
            return self._image(msg)
        if msg.kind == "link":
            if not msg.text:
                return text_answer(EMPTY_LINK)
            return self._ask(msg.user, msg.text, kind="link", forwarded=True)
        return text_answer(OTHER_HELP)

    def _ask(self, user: str, text: str, *, kind: str = "text", forwarded: bool = False,
                   media: bytes | None = None, prefix: str = "") -> Answer:
        inbound = Inbound(channel="wechat", user=user, text=text, kind=kind,  # type: ignore[arg-type]
                          media=media, forwarded=forwarded)
        turn = self._engine.handle(inbound)
        return render(turn.replies, prefix)

    def _image(self, msg: WeChatMessage) -> Answer:
        if self._client is None or not msg.media_id:
            return text_answer(IMAGE_FAILED)
        try:
            media = self._client.download_media(msg.media_id)
        except WeChatApiError as exc:
            log.warning("wechat media download failed", extra={"errcode": exc.code})
            return text_answer(IMAGE_FAILED)
        return self._ask(msg.user, "", kind="image", media=media)

    def _event(self, msg: WeChatMessage) -> Answer:
        if msg.event == "unsubscribe":
            self.unsubscribe(msg.user)
            return Answer()
        if msg.event == "subscribe":
            return self._ask(msg.user, self._menu.on_subscribe, prefix=self._welcome)
        if msg.event == "click":
            return self._ask(msg.user, self._menu.text_for(msg.event_key))
        if msg.event in ("mass_finish", "subscribe_msg"):
            self._push_event(msg)
        return Answer()  # location reports, menu links, scans, job reports: nothing to say

    def _push_event(self, msg: WeChatMessage) -> None:
        """A 群发 job's result, or a person's 订阅通知 answers: recorded for the campaigns. A result may
        overtake the worker's note of its msg_id by a moment: it is tried again for two seconds."""
        for _ in range(10):
            if self._record_push(msg) or msg.event != "mass_finish" or "msg_id" not in msg.extra:
                return
            time.sleep(0.2)
        log.warning("wechat mass result for an unknown job")

    def _record_push(self, msg: WeChatMessage) -> bool:
        from bot.campaigns.wechat_mass import record_finish
        from bot.campaigns.wechat_subscribe import record_consent

        with self._uow() as uow:
            if msg.event == "mass_finish":
                done = record_finish(uow.session, msg.extra)
            else:
                key = self._engine.conversation_key(Inbound(channel="wechat", user=msg.user))
                done = record_consent(uow.session, key, msg.extra) > 0
            uow.commit()
            return done

    def unsubscribe(self, openid: str) -> None:
        """Stop every push to this person at once (they unfollowed the account)."""
        self._engine.unsubscribe(Inbound(channel="wechat", user=openid))
        self.memory.forget(openid)
