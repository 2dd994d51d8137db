"""Per-user and per-address limits on POST /api/chat: a sliding window in this process's memory.

A flood from one person (or one address) gets a clear 429 before the engine runs. The address is the
real client's: `fundguard serve` takes it from X-Forwarded-For only when the peer is a trusted proxy
(FUNDGUARD_TRUSTED_PROXIES). Counts live in each process, so with `--workers N` an address can get up to
N times the limit; the limits stop floods, not careful accounting (that is the database's job for tips
and receipt checks).
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

from fastapi.responses import JSONResponse

TOO_FAST = "您发得太快了，请休息一下，{wait}秒后再发。"


class SlidingWindow:
    """At most `limit` hits per key in any `window` seconds; `limit` 0 means no limit."""

    def __init__(self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 100_000) -> None:
        self.limit, self.window, self.clock, self.max_keys = limit, window, clock, max_keys
        self._hits: dict[str, deque[float]] = {}

    def wait(self, key: str) -> float:
        """Seconds until `key` may send again (0: now). Does not count a hit."""
        if self.limit <= 0:
            return 0.0
        hits = self._hits.get(key)
        if hits is None:
            return 0.0
        now = self.clock()
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        return 0.0 if len(hits) < self.limit else hits[0] + self.window - now

    def hit(self, key: str) -> None:
        if self.limit <= 0:
            return
        if key not in self._hits and len(self._hits) >= self.max_keys:
            self._prune()
        self._hits.setdefault(key, deque(maxlen=self.limit)).append(self.clock())

    def _prune(self) -> None:
        since = self.clock() - self.window
        for key in [k for k, hits in self._hits.items() if not hits or hits[-1] <= since]:
            del self._hits[key]
        if len(self._hits) >= self.max_keys:  # all busy: forget the oldest half rather than grow
            for key in list(self._hits)[: self.max_keys // 2]:
                del self._hits[key]


class ChatLimits:
    def __init__(self, per_user: int, per_address: int, window: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.users = SlidingWindow(per_user, window, clock)
        self.addresses = SlidingWindow(per_address, window, clock)

    def check(self, user: str, address: str | None) -> JSONResponse | None:
        """None when the message may go on (and it is counted); otherwise the 429 to answer."""
        wait = max(self.users.wait(user), self.addresses.wait(address) if address else 0.0)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            message = TOO_FAST.format(wait=seconds)
            return JSONResponse({"error": message, "detail": message}, 429,
                                headers={"Retry-After": str(seconds)})
        self.users.hit(user)
        if address:
            self.addresses.hit(address)
        return None
