"""A second event loop, in its own thread, for turns that must not hold up the caller's loop.

The engine's turn is mostly synchronous work (the database, the embedded NLU, the risk check). On
the app's event loop nothing can interrupt it, so a deadline such as WeChat's reply budget would
fire only after the turn ended. Turns submitted here run on another thread: the app's loop stays
free, and `asyncio.wait_for` around `run()` really returns at the deadline while the turn goes on.

One thread per process is enough: it runs one event loop, so turns waiting on I/O (Rasa, the
database driver) overlap as they did on the app's loop; synchronous parts take turns, as before.
Side tasks a turn creates (notifications after commit) live on this loop, which never closes.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class TurnLoop:
    def __init__(self, name: str = "turns") -> None:
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name=self._name, daemon=True).start()
                self._loop = loop
            return self._loop

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run `coro` on the turn loop; the caller's loop waits without being blocked."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self._running_loop()))
