"""Point 5: /telegram with the right secret never answers 5xx, whatever the update holds. 2,000 mutations of
real-looking updates (fixed seed): each is refused with a 4xx or handled, and the handler never raises."""

from __future__ import annotations

import copy
import json
import random
from typing import Any

from tests.fakes.telegram_api import GROUP, USER, Updates
from tests.integration.test_telegram import HEADER, SECRET, bot  # noqa: F401

SEED = 18
MUTATIONS = 2000
ODD_VALUES: list[Any] = [
    {}, [], {"id": 1}, [1, 2], {"id": {"id": 1}}, "", "7", "\u0000", "长" * 300, -1, 0, 2**63, 2**70, -(2**70),
    1.5, float("inf"), None, True, False, [[[]]], {"type": "private", "id": [1]}, 253402300800,
]


def _seeds() -> list[dict[str, Any]]:
    u = Updates(first_update_id=1)
    sent = {"message_id": 5, "date": 1700000000, "chat": USER | {"type": "private"}, "from": USER | {"is_bot": True},
            "text": "选一个", "reply_markup": {"inline_keyboard": [[{"text": "老年人", "callback_data": "b:1"}]]}}
    press = {"update_id": 3, "callback_query": {"id": "cb1", "from": USER, "message": sent,
                                                 "chat_instance": "8123", "data": "b:1"}}
    return [u.message("什么是非法集资"), u.command("/start"), u.mention("帮我看看", chat=GROUP),
            u.forwarded("保本保息月息三分"), u.photo("file-1", 1000, caption="传单"), u.member("kicked"), press,
            u.message("查询 ABCDE-FGHJK-MNPQR-STVWX"), u.message("回复", chat=GROUP)]


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


def _mutate(rng: random.Random, update: dict[str, Any]) -> dict[str, Any]:
    update = copy.deepcopy(update)
    for _ in range(rng.choice((1, 1, 2, 3))):
        paths = _paths(update)
        if not paths:
            break
        path = rng.choice(paths)
        parent = update
        for step in path[:-1]:
            parent = parent[step]
        action = rng.random()
        if action < 0.15 and isinstance(parent, dict):
            parent.pop(path[-1], None)  # a field missing
        elif action < 0.25 and isinstance(parent, dict):
            parent[rng.choice(("id", "from", "chat", "text", "x_new", "entities"))] = rng.choice(ODD_VALUES)
        else:
            parent[path[-1]] = copy.deepcopy(rng.choice(ODD_VALUES))  # a value of the wrong type or size
    return update


def test_two_thousand_mutated_updates_never_give_a_5xx_nor_a_handler_error(bot):  # noqa: F811
    client, _ = bot
    rng = random.Random(SEED)
    seeds = _seeds()
    statuses: dict[int, int] = {}
    for n in range(MUTATIONS):
        update = _mutate(rng, rng.choice(seeds))
        if isinstance(update.get("update_id"), int) and rng.random() < 0.9:
            update["update_id"] = 1_000_000 + n  # mostly fresh ids, so that de-duplication does not hide them
        body = json.dumps(update, allow_nan=True).encode()
        r = client.post("/telegram", content=body, headers={HEADER: SECRET, "Content-Type": "application/json"})
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
        assert r.status_code < 500, (n, body[:400], r.text[:300])
    assert sum(statuses.values()) == MUTATIONS
    assert statuses.get(200, 0) > 100 and statuses.get(422, 0) > 100, statuses  # both paths were exercised
    assert client.app.state.telegram.handler.failures == 0
