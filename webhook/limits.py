"""Per-user and per-address limits on POST /api/chat.

A flood from one person (or one address) gets a clear 429 before the engine runs. The address is the
real client's: `fundguard serve` takes it from X-Forwarded-For only when the peer is a trusted proxy
(FUNDGUARD_TRUSTED_PROXIES). With FUNDGUARD_REDIS_URL the counts are shared by every worker (a one-minute
window per keyed hash of the user or address); without it, or while Redis does not answer, each process
counts on its own in a sliding window, so with `--workers N` a sender may get up to N times the limit.
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from fastapi.responses import JSONResponse

TOO_FAST = "您发得太快了，请休息一下，{wait}秒后再发。"
log = logging.getLogger(__name__)


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


class RedisWindows:
    """At most `limit` hits per key in each `window`-second slot, counted in Redis (shared by all workers).
    Several counters are taken in one round trip."""

    def __init__(self, client: Any, window: int = 60, clock: Callable[[], float] = time.time) -> None:
        self.client, self.window, self.clock = client, window, clock

    async def take(self, counters: list[tuple[str, int]]) -> float:
        """Count one hit on each (name, limit); the seconds to wait when any is over its limit (0: allowed)."""
        counters = [(name, limit) for name, limit in counters if limit > 0]
        if not counters:
            return 0.0
        now = self.clock()
        slot = int(now // self.window)
        async with self.client.pipeline(transaction=False) as pipe:  # one round trip; no MULTI needed
            for name, _ in counters:
                pipe.incr(f"{name}:{slot}")
                pipe.expire(f"{name}:{slot}", self.window + 5)
            results = await pipe.execute()
        over = any(count > limit for count, (_, limit) in zip(results[::2], counters, strict=True))
        return (slot + 1) * self.window - now if over else 0.0


class ChatLimits:
    def __init__(self, per_user: int, per_address: int, window: float = 60.0,
                 clock: Callable[[], float] = time.monotonic, *, redis: Any = None,
                 keyer: Callable[[str, str], str] = lambda kind, value: f"{kind}:{value}") -> None:
        self.users = SlidingWindow(per_user, window, clock)
        self.addresses = SlidingWindow(per_address, window, clock)
        self.keyer = keyer  # the app's keyed hash: Redis never holds a user id or an address
        self.limits = (per_user, per_address)
        self.shared = None if redis is None else RedisWindows(redis)
        self._warned = False

    async def check(self, user: str, address: str | None) -> JSONResponse | None:
        """None when the message may go on (and it is counted); otherwise the 429 to answer."""
        wait = await self._shared_wait(user, address)
        if wait is None:  # no Redis, or it did not answer: this process's own counts
            wait = max(self.users.wait(user), self.addresses.wait(address) if address else 0.0)
            if wait <= 0:
                self.users.hit(user)
                if address:
                    self.addresses.hit(address)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            message = TOO_FAST.format(wait=seconds)
            return JSONResponse({"error": message, "detail": message}, 429,
                                headers={"Retry-After": str(seconds)})
        return None

    async def _shared_wait(self, user: str, address: str | None) -> float | None:
        if not self.shared:
            return None
        counters = [("fundguard:chat:user:" + self.keyer("chat-user", user), self.limits[0])]
        if address:
            counters.append(("fundguard:chat:addr:" + self.keyer("chat-addr", address), self.limits[1]))
        try:
            return await self.shared.take(counters)
        except Exception as exc:  # Redis down or slow: never a 500 for a chat message
            if not self._warned:
                log.warning("chat limits: Redis did not answer; counting per process",
                            extra={"error_type": type(exc).__name__})
                self._warned = True
            return None
