"""Turns run off the event loop, in a bounded pool of threads, one at a time per conversation."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter

from bot.dialogue.turns import KeyedLocks, TurnRunner
from bot.messages import Inbound, Outbound, Turn


def test_turns_of_one_conversation_never_overlap_and_locks_are_let_go() -> None:
    locks, guard = KeyedLocks(), threading.Lock()
    active: Counter[str] = Counter()
    overlaps: list[str] = []

    def turns(key: str) -> None:
        for _ in range(10):
            with locks.hold(key):
                with guard:
                    active[key] += 1
                    if active[key] > 1:
                        overlaps.append(key)
                time.sleep(0.002)  # long enough for another thread to come in, were it let in
                with guard:
                    active[key] -= 1

    threads = [threading.Thread(target=turns, args=(key,)) for key in ("a", "b") * 4]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert overlaps == []
    assert locks._locks == {}  # nobody holds or waits: nothing kept


class GatedEngine:
    """A turn that waits until the caller's event loop opens the gate: it can only end if it runs elsewhere."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.threads: list[str] = []

    def handle(self, msg: Inbound) -> Turn:
        self.threads.append(threading.current_thread().name)
        opened = self.gate.wait(10)
        return Turn((Outbound("opened" if opened else "timed out"),), "bot_identity", "greet", 1.0)

    def conversation_key(self, msg: Inbound) -> str:
        return msg.user


def test_a_turn_runs_in_a_turn_thread_while_the_event_loop_goes_on() -> None:
    engine = GatedEngine()
    runner = TurnRunner(engine, threads=2)

    async def main() -> Turn:
        pending = asyncio.create_task(runner.handle(Inbound(channel="web", user="u")))
        await asyncio.sleep(0)  # the turn starts; the loop is still free to run this
        engine.gate.set()
        return await pending

    try:
        turn = asyncio.run(main())
    finally:
        runner.close()
    assert turn.replies[0].text == "opened"
    assert engine.threads[0].startswith("turn")


class Failing:
    def handle(self, msg: Inbound) -> Turn:
        raise LookupError("no such thing")


def test_a_failed_turn_raises_in_the_caller() -> None:
    runner = TurnRunner(Failing(), threads=1)  # type: ignore[arg-type]
    try:
        raised = asyncio.run(_raised(runner.handle(Inbound(channel="web", user="u"))))
    finally:
        runner.close()
    assert isinstance(raised, LookupError) and str(raised) == "no such thing"


async def _raised(awaitable) -> BaseException | None:  # type: ignore[no-untyped-def]
    try:
        await awaitable
    except BaseException as exc:  # noqa: BLE001 - what the caller would see
        return exc
    return None


def test_a_deadline_stops_the_wait_and_the_turn_still_ends() -> None:
    engine = GatedEngine()
    runner = TurnRunner(engine, threads=1)

    async def main() -> tuple[bool, Turn]:
        try:
            await asyncio.wait_for(runner.handle(Inbound(channel="web", user="u")), 0.05)
            timed_out = False
        except TimeoutError:
            timed_out = True
        engine.gate.set()  # the first turn now ends in its thread; its result is dropped
        return timed_out, await asyncio.wait_for(runner.handle(Inbound(channel="web", user="v")), 10)

    try:
        timed_out, later = asyncio.run(main())
    finally:
        runner.close()
    assert timed_out
    assert later.replies[0].text == "opened"  # the one thread was not left stuck
    assert len(engine.threads) == 2
