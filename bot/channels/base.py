"""The small protocol every push-capable channel implements (used by campaigns and office replies).

Channel adapters (bot/channels/wechat.py, telegram.py) implement `Sender`; the core only sees this
protocol and `SendResult`, never an SDK object.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from bot.messages import Outbound

SendStatus = Literal["sent", "retry", "unreachable", "blocked", "failed"]


@dataclass(frozen=True)
class SendResult:
    """What happened to one send.

    sent: delivered to the platform. retry: rate-limited, try again after `retry_after` seconds.
    unreachable: the platform refuses for now (WeChat outside the 48-hour window, quota).
    blocked: the person blocked the bot or left: stop sending to them.
    failed: any other error (`error` is a short code such as "45047" or "BadRequest", never text).
    """

    status: SendStatus
    retry_after: float | None = None
    error: str | None = None
    via: str | None = None  # for a sent push: the mechanism used (WeChat: service, subscribe, mass)

    @property
    def ok(self) -> bool:
        return self.status == "sent"


class Sender(Protocol):
    channel: str

    async def send(self, chat_id: str, messages: Sequence[Outbound]) -> SendResult: ...
