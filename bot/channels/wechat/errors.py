"""The one error of the WeChat API calls (customer service, media, menu, tags, 群发, 订阅通知)."""

from __future__ import annotations


class WeChatApiError(Exception):
    """An API call failed; `code` is WeChat's errcode or the error's type name."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code
