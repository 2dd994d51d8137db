"""Running turns: one at a time per conversation, and off the caller's event loop in a bounded pool of threads.

The engine's turn is synchronous (the database, the NLU, the risk check, Argon2, OCR). Async callers (the web
app, WeChat, Telegram) hand it to `TurnRunner`, whose threads are as many as FUNDGUARD_TURN_THREADS: their
event loop stays free, and a deadline around `await runner.handle(...)` fires on time while the turn goes on.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Protocol, TypeVar

from bot.cpus import pin_this_thread
from bot.messages import Inbound, Turn

A = TypeVar("A")
R = TypeVar("R")


class KeyedLocks:
    """A lock per key, kept only while someone holds or waits for it: turns of one person never overlap."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, int]] = {}

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        with self._guard:
            lock, users = self._locks.get(key, (None, 0))
            lock = lock or threading.Lock()
            self._locks[key] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._guard:
                users = self._locks[key][1] - 1
                if users:
                    self._locks[key] = (lock, users)
                else:
                    del self._locks[key]


class SyncEngine(Protocol):
    def handle(self, msg: Inbound) -> Turn: ...
    def conversation_key(self, msg: Inbound) -> str: ...
    def open_flow(self, msg: Inbound) -> str | None: ...
    def unsubscribe(self, msg: Inbound) -> None: ...


class TurnRunner:
    """The engine for async callers: `await handle(msg)` runs the turn in one of `threads` threads."""

    def __init__(self, engine: SyncEngine, threads: int, cpu: int | None = None) -> None:
        self.engine = engine
        self.cpu = cpu  # the CPU the turn threads keep to, with the event loop that calls them (bot/cpus.py)
        self._pool = ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="turn",
                                        initializer=pin_this_thread, initargs=(cpu,))

    async def handle(self, msg: Inbound) -> Turn:
        return await self.run(self.engine.handle, msg)

    async def run(self, fn: Callable[[A], R], arg: A) -> R:
        """`fn(arg)` in a turn thread: a channel's synchronous work around a turn (WeChat's dialogue)."""
        context = contextvars.copy_context()  # as asyncio.to_thread: the caller's context (log fields) goes along
        return await asyncio.get_running_loop().run_in_executor(self._pool, context.run, fn, arg)

    def conversation_key(self, msg: Inbound) -> str:
        return self.engine.conversation_key(msg)

    async def open_flow(self, msg: Inbound) -> str | None:
        """The flow this person's conversation is in (a channel's commands ask), read in a turn thread."""
        return await self.run(self.engine.open_flow, msg)

    def close(self) -> None:
        self._pool.shutdown(wait=False)
