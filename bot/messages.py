"""The only types that cross layers: what came in, what goes out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Channel = Literal["web", "wechat", "telegram", "terminal"]
Kind = Literal["text", "image", "voice", "link", "event"]
PUSH_CHANNELS: tuple[str, ...] = ("wechat", "telegram")  # channels that can send first (campaign pushes)


@dataclass(frozen=True)
class Button:
    """A quick reply: tapping it sends `label` back as the person's message."""

    label: str


@dataclass(frozen=True)
class Inbound:
    channel: Channel
    user: str                      # the channel's id of the person (never logged)
    text: str = ""
    kind: Kind = "text"
    private: bool = True           # False in a group chat
    media: bytes | None = None     # an image's bytes (tip evidence)
    forwarded: bool = False        # a forwarded message or shared article: check it for red flags
    address: str | None = None     # the client's network address (rate limits on the web channel)


@dataclass(frozen=True)
class Outbound:
    text: str
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True)
class Turn:
    """The engine's answer to one inbound message, with the facts the API reports."""

    replies: tuple[Outbound, ...]
    topic: str
    intent: str
    confidence: float
    red_flags: tuple[str, ...] = ()
    expects: str | None = None
    receipt: str | None = None
    extra: dict[str, object] = field(default_factory=dict)
