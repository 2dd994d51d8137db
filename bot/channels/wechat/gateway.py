"""WeChat's five-second budget and its retries: each message handled once, answered once.

WeChat waits five seconds for a reply and, without one, sends the same message again (three tries).

- The first request for a message (`deduper.first_time("wechat", key)`, exactly once across workers)
  starts the work and waits up to `budget` seconds: ready in time, the answer is the passive reply;
  otherwise the reply is `success` and the answer follows as customer-service messages.
- Every answer is kept (sealed) for two minutes in shared_values, so that a retry handled by any
  worker can give it: a retry means WeChat did not get the earlier reply. A retry waits for the
  answer within its own budget and never starts the work again.
- A retry's passive reply and the customer-service messages exclude each other through a second
  once-only claim (`first_time("wechat-final", key)`). The first retry to give the answer marks it
  so; later retries (WeChat lost that reply too) give it again, but never after the customer-service
  path took the claim: the person does not get the same answer twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from bot.channels.wechat.client import WeChatClient
from bot.channels.wechat.dialogue import WeChatDialogue
from bot.channels.wechat.protocol import WeChatMessage, WeChatProtocol
from bot.channels.wechat.render import Answer, text_answer, with_more_hint
from bot.channels.wechat.store import SharedBox
from bot.dialogue.turns import TurnRunner
from bot.store.dedupe import InboundDeduper

log = logging.getLogger(__name__)
BUDGET = 4.0                      # seconds for a passive reply, well inside WeChat's five
KEEP = 120                        # seconds an answer is kept for retries
POLL = 0.1
PRUNE_EVERY = 600                 # seconds between deletions of expired values, per process
SORRY = "抱歉，系统刚才出了点问题，请稍后再发一次。情况紧急请直接拨打110。"


class WeChatGateway:
    def __init__(self, *, protocol: WeChatProtocol, dialogue: WeChatDialogue, turns: TurnRunner, box: SharedBox,
                 deduper: InboundDeduper, digest: Callable[[str, str], str], client: WeChatClient | None,
                 budget: float = BUDGET) -> None:
        self.protocol = protocol
        self.dialogue = dialogue
        self.client = client
        self.box = box
        self.budget = budget
        self._turns = turns  # the dialogue runs in a turn thread: the budget's deadline fires on time
        self._deduper = deduper
        self._digest = digest
        self._running: dict[str, asyncio.Task[Answer]] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._pruned = -float(PRUNE_EVERY)

    def _answer_name(self, key: str) -> str:
        return "wxa:" + self._digest("wechat-answer", key)[:56]

    async def respond(self, msg: WeChatMessage, started: float) -> str | None:
        """The passive reply's text, or None for `success`. `started` is time.monotonic() at arrival."""
        deadline = started + self.budget
        key = msg.dedupe_key
        if self._deduper.first_time("wechat", key):
            task = asyncio.create_task(self._work(msg))
            self._running[key] = task
            task.add_done_callback(lambda _: self._running.pop(key, None))
            try:
                answer = await asyncio.wait_for(asyncio.shield(task), max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                self._keep(asyncio.create_task(self._deliver_later(msg, task)))
                return None
            return self._passive(msg, answer)
        waited = await self._wait_for_answer(key, deadline)  # a retry: never do the work twice
        if waited is None or not waited.pages:
            return None
        if self._deduper.first_time("wechat-final", key):
            self._keep_answer(key, waited, passive=True)  # later retries may give it again
            return self._passive(msg, waited)
        kept = self.box.get(self._answer_name(key))
        if isinstance(kept, dict) and kept.get("passive"):  # a retry holds it, not the customer-service path
            return self._passive(msg, waited)
        return None

    async def _work(self, msg: WeChatMessage) -> Answer:
        try:
            answer = await self._turns.run(self.dialogue.answer, msg)
        except Exception as exc:  # the engine's unit of work rolled back: a retry may try again
            log.error("wechat message failed", extra={"error_type": type(exc).__name__})
            self._deduper.forget("wechat", msg.dedupe_key)
            return text_answer(SORRY)
        self._keep_answer(msg.dedupe_key, answer)
        return answer

    def _keep_answer(self, key: str, answer: Answer, passive: bool = False) -> None:
        try:
            self.box.put(self._answer_name(key), {**answer.to_json(), "passive": passive}, KEEP)
            if time.monotonic() - self._pruned > PRUNE_EVERY:
                self._pruned = time.monotonic()
                for prefix in ("wxa:", "wxu:"):  # expired answers and per-person memories
                    self.box.prune(prefix)
        except Exception as exc:  # only retries in other workers miss it
            log.warning("wechat answer not kept", extra={"error_type": type(exc).__name__})

    async def _wait_for_answer(self, key: str, deadline: float) -> Answer | None:
        while True:
            task = self._running.get(key)
            remaining = deadline - time.monotonic()
            if task is not None:
                try:
                    return await asyncio.wait_for(asyncio.shield(task), max(0.0, remaining))
                except TimeoutError:
                    return None
            kept = self.box.get(self._answer_name(key))
            if kept is not None:
                return Answer.from_json(kept)
            if remaining <= 0:
                return None
            await asyncio.sleep(min(POLL, remaining))

    def _passive(self, msg: WeChatMessage, answer: Answer) -> str | None:
        if not answer.pages:
            return None
        self.dialogue.memory.save(msg.user, answer.buttons, answer.pages[1:])
        return with_more_hint(answer.pages[0], len(answer.pages) > 1)

    async def _deliver_later(self, msg: WeChatMessage, task: asyncio.Task[Answer]) -> None:
        answer = await task
        if not answer.pages or not self._deduper.first_time("wechat-final", msg.dedupe_key):
            return  # nothing to say, or a retry already gave the answer
        self.dialogue.memory.save(msg.user, answer.buttons, ())
        if self.client is None:
            log.warning("wechat answer too slow and no app id to send it", extra={"pages": len(answer.pages)})
            return
        result = await self.client.send_texts(msg.user, answer.pages)
        if not result.ok:
            log.warning("wechat slow answer not delivered", extra={"status": result.status, "error": result.error})

    def _keep(self, task: asyncio.Task[None]) -> None:
        self._background.add(task)
        task.add_done_callback(self._background.discard)
