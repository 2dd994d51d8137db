"""The WeChat official account's outbound side: customer-service messages, media download, the menu.

`WeChatClient` implements the `Sender` protocol (channel "wechat") with wechatpy's client underneath:
its base URL comes from FUNDGUARD_WECHAT_API_BASE, and its access token lives in the shared_values
table (sealed), shared by every worker and refreshed five minutes before it expires. Customer-service
messages go out only within 48 hours of the person's last interaction; WeChat's refusals 45015
(outside that window) and 45047 (too many messages) are recorded on the subscriber and returned as
`unreachable`, never retried blindly.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, timedelta
from typing import TYPE_CHECKING, Any

import requests
from sqlalchemy.orm import Session
from wechatpy import WeChatClient as _SdkClient
from wechatpy.exceptions import WeChatClientException

from bot.channels.base import SendResult
from bot.channels.wechat.errors import WeChatApiError
from bot.channels.wechat.render import render
from bot.channels.wechat.store import SharedBox, TokenStorage
from bot.messages import Outbound
from bot.store.models import utcnow
from bot.store.subscribers import SubscriberRepository

if TYPE_CHECKING:
    from bot.channels.wechat.push import WeChatPushApi

log = logging.getLogger(__name__)
WINDOW = timedelta(hours=48)
MAX_MEDIA = 10 * 1024 * 1024
UNREACHABLE = {45015, 45047}        # outside the 48-hour window; too many messages to this person
BLOCKED = {43004, 40003, 43019}     # unfollowed; not a follower's openid; the person blocked the account
RETRY = {-1: 5.0, 45009: 600.0, 45011: 5.0}  # system busy; daily API quota; too fast


class _Sdk(_SdkClient):  # type: ignore[misc]  # wechatpy has no type hints: its client is Any
    """wechatpy's client with a configurable token URL and a token read only from the shared storage."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._token_lock = threading.Lock()

    def fetch_access_token(self) -> dict[str, Any]:
        token: dict[str, Any] = self._fetch_access_token(
            url=self.API_BASE_URL + "token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret})
        return token

    @property
    def access_token(self) -> str:
        token = self.session.get(self.access_token_key)
        if token:
            return str(token)
        with self._token_lock:  # one fetch per process; workers share whatever was stored last
            token = self.session.get(self.access_token_key)
            if token:
                return str(token)
            return str(self.fetch_access_token()["access_token"])


class WeChatClient:
    channel = "wechat"

    def __init__(self, *, app_id: str, app_secret: str, api_base: str, box: SharedBox,
                 sessions: Callable[[], Session], keyer: Callable[[str], str], timeout: float = 5.0) -> None:
        self._sdk = _Sdk(app_id, app_secret, session=TokenStorage(box), timeout=timeout)
        self._sdk.API_BASE_URL = api_base if api_base.endswith("/") else api_base + "/"
        self._sessions = sessions
        self._key = keyer  # openid → the subscriber key (the engine's conversation key)

    # -- Sender -----------------------------------------------------------------------------------
    async def send(self, chat_id: str, messages: Sequence[Outbound]) -> SendResult:
        """A push: customer-service texts (buttons as a numbered list, long texts as several pages).

        Refused ("blocked") for a subscriber who opted out, even if the push was queued before.
        """
        if self._opted_out(chat_id):
            return SendResult("blocked", error="unsubscribed")
        return await self.send_texts(chat_id, render(messages).pages)

    async def send_texts(self, openid: str, pages: Sequence[str]) -> SendResult:
        """Texts as they are (each at most 2048 bytes): replies, within the 48-hour window only."""
        if not pages:
            return SendResult("sent")
        if not self._within_window(openid):
            self._record(openid, "45015")
            return SendResult("unreachable", error="45015")
        for page in pages:
            try:
                await asyncio.to_thread(self._sdk.message.send_text, openid, page)
            except WeChatClientException as exc:
                return self._failure(openid, exc.errcode)
            except requests.RequestException as exc:
                log.warning("wechat send failed", extra={"error_type": type(exc).__name__})
                return SendResult("retry", retry_after=5.0, error=type(exc).__name__)
        return SendResult("sent")

    def _failure(self, openid: str, errcode: Any) -> SendResult:
        code = int(errcode) if isinstance(errcode, int) or str(errcode).lstrip("-").isdigit() else None
        log.warning("wechat send refused", extra={"errcode": code})
        if code in UNREACHABLE or code in BLOCKED:
            self._record(openid, str(code))
            return SendResult("unreachable" if code in UNREACHABLE else "blocked", error=str(code))
        if code in RETRY:
            return SendResult("retry", retry_after=RETRY[code], error=str(code))
        if code is None:  # an HTTP error status from the API
            return SendResult("retry", retry_after=5.0, error="http")
        return SendResult("failed", error=str(code))

    # -- the subscriber's window and state --------------------------------------------------------
    def _within_window(self, openid: str) -> bool:
        with self._sessions() as session:
            sub = SubscriberRepository(session).get(self._key(openid))
            if sub is None:  # not a subscriber: WeChat itself enforces the window
                return True
            last = sub.last_interaction
            last = last if last.tzinfo is not None else last.replace(tzinfo=UTC)
            return utcnow() - last < WINDOW

    def _opted_out(self, openid: str) -> bool:
        with self._sessions() as session:
            sub = SubscriberRepository(session).get(self._key(openid))
            return sub is not None and not sub.opted_in

    def _record(self, openid: str, code: str) -> None:
        with self._sessions() as session:
            sub = SubscriberRepository(session).get(self._key(openid))
            if sub is not None:
                sub.reachable, sub.last_error = False, code
                session.commit()

    def note_interaction(self, openid: str) -> None:
        """The person wrote or clicked: the 48-hour window opens again, earlier refusals no longer hold."""
        with self._sessions() as session:
            sub = SubscriberRepository(session).get(self._key(openid))
            if sub is not None:
                sub.reachable, sub.last_error, sub.last_interaction = True, None, utcnow()
                session.commit()

    # -- media and menu ---------------------------------------------------------------------------
    def download_media(self, media_id: str) -> bytes:
        """A temporary media file (e.g. a photo a person sent), fetched in the turn's thread. Raises WeChatApiError."""
        try:
            res = self._sdk.media.download(media_id)
        except WeChatClientException as exc:
            raise WeChatApiError(str(exc.errcode)) from exc
        except requests.RequestException as exc:
            raise WeChatApiError(type(exc).__name__) from exc
        content = getattr(res, "content", None)
        if not isinstance(content, bytes) or not content:
            raise WeChatApiError("not_media")
        if len(content) > MAX_MEDIA:
            raise WeChatApiError("too_large")
        return content

    def create_menu(self, menu: dict[str, Any]) -> None:
        """Replace the account's custom menu (blocking; for the CLI)."""
        try:
            self._sdk.menu.create(menu)
        except WeChatClientException as exc:
            raise WeChatApiError(str(exc.errcode)) from exc
        except requests.RequestException as exc:
            raise WeChatApiError(type(exc).__name__) from exc

    def push_api(self) -> WeChatPushApi:
        """Tags, uploads, 群发 and 订阅通知 with this client's token (bot/channels/wechat/push.py)."""
        from bot.channels.wechat.push import WeChatPushApi

        return WeChatPushApi(self._sdk)
