"""Point 4: look-ups with a valid receipt code are throttled per conversation and per client, and the code is
hashed off the event loop."""

from __future__ import annotations

import asyncio

from bot.tips.receipts import ReceiptHasher
from tests.integration.test_chat_api import say
from tests.integration.test_console_security import file_via_chat

TOO_MANY = "查询次数太多了"


class _Watched(ReceiptHasher):
    """The app's own hasher, noting each run and whether an event loop was running in its thread."""

    def __init__(self, inner: ReceiptHasher) -> None:
        self.__dict__.update(inner.__dict__)
        self.runs = 0
        self.on_loop = 0

    def hash(self, code: str) -> str:
        self.runs += 1
        try:
            asyncio.get_running_loop()
            self.on_loop += 1
        except RuntimeError:
            pass
        return super().hash(code)


def test_valid_receipt_lookups_are_throttled_and_hashed_off_the_loop(client, services):
    receipt = file_via_chat(client, "filer")
    watched = _Watched(services.tips._receipts)
    services.tips._receipts = watched
    flow = services.engine._flows["status"]
    answers = [say(client, "looker", f"查询 {receipt}")["replies"][0]["text"] for _ in range(flow.lookups + 3)]
    assert all("目前状态" in a for a in answers[: flow.lookups])
    assert all(TOO_MANY in a for a in answers[flow.lookups:])
    assert watched.runs == flow.lookups and watched.on_loop == 0  # refused look-ups cost no hash
    # Other conversations from the same client share its per-address budget.
    per_user = flow.lookups
    users = -(-flow.address_lookups // per_user) + 1
    texts = [say(client, f"rotating-{u}", f"查询 {receipt}")["replies"][0]["text"]
             for u in range(users) for _ in range(per_user)]
    total_ok = sum("目前状态" in t for t in texts) + flow.lookups
    assert total_ok == flow.address_lookups, total_ok
    assert watched.runs == flow.address_lookups
