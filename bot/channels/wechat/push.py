"""The WeChat push APIs beyond customer-service messages, through wechatpy's client: user tags, media
upload, 群发 (mass send by tag) and 订阅通知 (subscribe messages).

Blocking calls for the campaign worker and the CLI; every refusal becomes `WeChatApiError(errcode)`.
`message/mass/sendall` is posted through the client's own `post`: wechatpy's `send_mass_*` still put
the pre-2016 `group_id` in the filter, and the platform's send-by-tag takes `tag_id`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import requests
from wechatpy.exceptions import WeChatClientException

from bot.channels.wechat.errors import WeChatApiError

T = TypeVar("T")
TAG_BATCH = 50  # openids in one batchtagging / batchuntagging call (the platform's limit)


def _call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    try:
        return fn(*args, **kwargs)
    except WeChatClientException as exc:
        raise WeChatApiError(str(exc.errcode)) from exc
    except requests.RequestException as exc:
        raise WeChatApiError(type(exc).__name__) from exc


class WeChatPushApi:
    """Tags, uploads, mass sends and subscribe messages of one official account."""

    def __init__(self, sdk: Any) -> None:
        self._sdk = sdk  # a wechatpy WeChatClient (bot.channels.wechat._Sdk)

    # -- user tags --------------------------------------------------------------------------------
    def tags(self) -> dict[str, int]:
        """The account's tags, name → id."""
        return {str(t["name"]): int(t["id"]) for t in _call(self._sdk.tag.get)}

    def create_tag(self, name: str) -> int:
        return int(_call(self._sdk.tag.create, name)["id"])

    def tag_users(self, tag_id: int, openids: Sequence[str]) -> None:
        _call(self._sdk.tag.tag_user, tag_id, list(openids))

    def untag_users(self, tag_id: int, openids: Sequence[str]) -> None:
        _call(self._sdk.tag.untag_user, tag_id, list(openids))

    # -- 群发 ---------------------------------------------------------------------------------------
    def upload_thumb(self, data: bytes) -> str:
        """A JPEG cover (≤ 64 KB) as temporary media; its thumb_media_id."""
        res = _call(self._sdk.media.upload, "thumb", ("cover.jpg", data, "image/jpeg"))
        return str(res.get("thumb_media_id") or res["media_id"])

    def upload_news(self, articles: list[dict[str, Any]]) -> str:
        """An article (图文) for a mass send; its media_id."""
        return str(_call(self._sdk.media.upload_articles, articles)["media_id"])

    def send_mass(self, tag_id: int, kind: str, payload: dict[str, Any], client_msg_id: str) -> str:
        """Send to everyone with `tag_id`; the job's msg_id (results come with MASSSENDJOBFINISH).

        `client_msg_id` makes a repeated request within 24 h a no-op (errcode 45065)."""
        data = {"filter": {"is_to_all": False, "tag_id": tag_id}, "msgtype": kind, kind: payload,
                "send_ignore_reprint": 0, "clientmsgid": client_msg_id[:64]}
        res = _call(self._sdk.post, "message/mass/sendall", data=data)
        return str(res.get("msg_id", ""))

    # -- 订阅通知 -----------------------------------------------------------------------------------
    def send_subscribe(self, openid: str, template_id: str, data: dict[str, Any], page: str | None) -> None:
        _call(self._sdk.message.send_subscribe_message, openid, template_id, data, page=page)
