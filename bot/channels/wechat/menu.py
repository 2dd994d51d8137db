"""The official account's custom menu, from content/wechat_menu.yaml.

Each clickable item has a key (what WeChat sends back on a click) and a text (what the bot treats the
click as, as if the person had typed it). WeChat allows at most three top-level buttons of 16 bytes,
each with at most five sub-buttons of 60 bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

TOP_MAX, SUB_MAX = 3, 5
TOP_NAME_BYTES, SUB_NAME_BYTES, KEY_BYTES = 16, 60, 128


@dataclass(frozen=True)
class MenuItem:
    name: str
    key: str = ""
    text: str = ""
    topic: str = ""                         # the answer `text` leads to (checked by the tests)
    subs: tuple[MenuItem, ...] = ()


@dataclass(frozen=True)
class Menu:
    items: tuple[MenuItem, ...]
    on_subscribe: str                       # what a new follower's subscribe event is treated as
    fallback: str                           # what an unknown click is treated as

    @classmethod
    def load(cls, path: Path) -> Menu:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(doc, dict) or not isinstance(doc.get("buttons"), list):
            raise ValueError(f"{path.name}: a `buttons` list is required")
        items = tuple(_item(raw, top=True) for raw in doc["buttons"])
        if not 1 <= len(items) <= TOP_MAX:
            raise ValueError(f"{path.name}: WeChat allows 1 to {TOP_MAX} top-level buttons")
        keys = [i.key for i in _clickable(items)]
        if len(keys) != len(set(keys)):
            raise ValueError(f"{path.name}: button keys must be unique")
        on_subscribe, fallback = str(doc.get("on_subscribe") or ""), str(doc.get("fallback") or "")
        if not on_subscribe or not fallback:
            raise ValueError(f"{path.name}: `on_subscribe` and `fallback` texts are required")
        return cls(items, on_subscribe, fallback)

    def clickable(self) -> tuple[MenuItem, ...]:
        return _clickable(self.items)

    def text_for(self, key: str) -> str:
        """The text a click stands for; an unknown key (an old menu) gets the fallback."""
        return next((i.text for i in self.clickable() if i.key == key), self.fallback)

    def to_wechat(self) -> dict[str, Any]:
        """The body of WeChat's menu create API."""
        def one(item: MenuItem) -> dict[str, Any]:
            if item.subs:
                return {"name": item.name, "sub_button": [one(s) for s in item.subs]}
            return {"type": "click", "name": item.name, "key": item.key}

        return {"button": [one(i) for i in self.items]}


def _clickable(items: tuple[MenuItem, ...]) -> tuple[MenuItem, ...]:
    out: list[MenuItem] = []
    for item in items:
        out.extend(item.subs if item.subs else (item,))
    return tuple(out)


def _item(raw: object, *, top: bool) -> MenuItem:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not raw["name"].strip():
        raise ValueError("each menu button needs a name")
    name = raw["name"].strip()
    if len(name.encode("utf-8")) > (TOP_NAME_BYTES if top else SUB_NAME_BYTES):
        raise ValueError(f"menu button name too long for WeChat: {name}")
    subs_raw = raw.get("sub_buttons")
    if subs_raw is not None:
        if not top or not isinstance(subs_raw, list) or not 1 <= len(subs_raw) <= SUB_MAX:
            raise ValueError(f"{name}: 1 to {SUB_MAX} sub-buttons, under a top-level button only")
        return MenuItem(name, subs=tuple(_item(s, top=False) for s in subs_raw))
    key, text = str(raw.get("key") or ""), str(raw.get("text") or "")
    if not key or not text or len(key.encode("utf-8")) > KEY_BYTES:
        raise ValueError(f"{name}: a key (at most {KEY_BYTES} bytes) and a text are required")
    return MenuItem(name, key, text, str(raw.get("topic") or ""))
