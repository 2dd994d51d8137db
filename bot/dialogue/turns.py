"""Running turns: one at a time per conversation, and off the caller's event loop in a bounded pool of threads.

The engine's turn is synchronous (the database, the NLU, the risk check, Argon2, OCR). Async callers (the web
app, WeChat, Telegram) hand it to `TurnRunner`, whose threads are as many as FUNDGUARD_TURN_THREADS: their
event loop stays free, and a deadline around `await runner.handle(...)` fires on time while the turn goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import queue
import threading
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from bot.cpus import pin_this_thread
from bot.messages import Inbound, Turn

A = TypeVar("A")
R = TypeVar("R")


class KeyedLocks:
    """A lock per key, kept only while someone holds or waits for it: turns of one person never overlap."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, list[Any]] = {}  # key -> [its lock, how many hold or wait for it]

    def hold(self, key: str) -> _Held:
        return _Held(self, key)


class _Held:
    """`with locks.hold(key):` (a class, not a generator: it runs on every turn)."""

    __slots__ = ("_owner", "_key", "_lock")

    def __init__(self, owner: KeyedLocks, key: str) -> None:
        self._owner, self._key = owner, key

    def __enter__(self) -> None:
        owner = self._owner
        with owner._guard:
            entry = owner._locks.get(self._key)
            if entry is None:
                entry = owner._locks[self._key] = [threading.Lock(), 0]
            entry[1] += 1
        self._lock = entry[0]
        self._lock.acquire()

    def __exit__(self, *exc: object) -> None:
        self._lock.release()
        owner = self._owner
        with owner._guard:
            entry = owner._locks[self._key]
            entry[1] -= 1
            if not entry[1]:
                del owner._locks[self._key]


class SyncEngine(Protocol):
    def handle(self, msg: Inbound) -> Turn: ...
    def conversation_key(self, msg: Inbound) -> str: ...
    def open_flow(self, msg: Inbound) -> str | None: ...
    def unsubscribe(self, msg: Inbound) -> None: ...


class TurnRunner:
    """The engine for async callers: `await handle(msg)` runs the turn in one of `threads` threads.

    The hand-over is a queue the threads wait on and an asyncio future the turn thread completes through
    `call_soon_threadsafe`: no executor futures, conditions or chained futures (that machinery cost the event loop
    about a sixth of its time per message, docs/bench/issue16.md). When the caller stops waiting (a deadline fired),
    the turn still ends in its thread and its result is dropped, as with an executor."""

    def __init__(self, engine: SyncEngine, threads: int, cpu: int | None = None) -> None:
        self.engine = engine
        self.cpu = cpu  # the CPU the turn threads keep to, with the event loop that calls them (bot/cpus.py)
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads = [threading.Thread(target=self._work, name=f"turn_{i}", daemon=True)
                         for i in range(max(1, threads))]
        for thread in self._threads:
            thread.start()

    async def handle(self, msg: Inbound) -> Turn:
        return await self.run(self.engine.handle, msg)

    async def run(self, fn: Callable[[A], R], arg: A) -> R:
        """`fn(arg)` in a turn thread: a channel's synchronous work around a turn (WeChat's dialogue)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        # as asyncio.to_thread: the caller's context (log fields) goes along
        self._jobs.put((loop, future, contextvars.copy_context(), fn, arg))
        return await future

    def conversation_key(self, msg: Inbound) -> str:
        return self.engine.conversation_key(msg)

    async def open_flow(self, msg: Inbound) -> str | None:
        """The flow this person's conversation is in (a channel's commands ask), read in a turn thread."""
        return await self.run(self.engine.open_flow, msg)

    def close(self) -> None:
        """The threads end once the turns already handed over are done."""
        for _ in self._threads:
            self._jobs.put(None)

    def _work(self) -> None:
        pin_this_thread(self.cpu)
        while (job := self._jobs.get()) is not None:
            loop, future, context, fn, arg = job
            try:
                result, failure = context.run(fn, arg), None
            except BaseException as exc:  # handed to the caller, whatever it is
                result, failure = None, exc
            with contextlib.suppress(RuntimeError):  # the caller's loop is closed: nobody to tell
                loop.call_soon_threadsafe(_settle, future, result, failure)


_Job = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", contextvars.Context, Callable[[Any], Any], Any]


def _settle(future: asyncio.Future[Any], result: Any, failure: BaseException | None) -> None:
    if future.cancelled():  # the caller stopped waiting (a deadline): the turn ended anyway
        return
    if failure is not None:
        future.set_exception(failure)
    else:
        future.set_result(result)
