"""Platform limits shared by every worker: Dramatiq rate limiters on Redis, and a shared 429 pause.

The global limit is a BucketRateLimiter counted in short slices (3 messages per 100 ms for 30/s), so
sends are spread evenly instead of bursting at each second. Per chat, a WindowRateLimiter of one
message over (n + 1) whole seconds keeps two messages to one chat at least n seconds apart.
Keys hold the subscriber's keyed hash, never a chat id.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from dramatiq.rate_limits import BucketRateLimiter, RateLimiterBackend, WindowRateLimiter
from dramatiq.rate_limits.backends import StubBackend

if TYPE_CHECKING:
    from redis import Redis


class Pauses:
    """"Nobody sends on channel X before time T" (after a 429 with retry_after), visible to all workers."""

    def __init__(self, redis_client: Redis | None = None, prefix: str = "fundguard") -> None:
        self._redis = redis_client
        self._prefix = prefix
        self._local: dict[str, float] = {}
        self._lock = threading.Lock()

    def _key(self, channel: str) -> str:
        return f"{self._prefix}:pause:{channel}"

    def pause(self, channel: str, seconds: float) -> None:
        until = time.time() + seconds
        if self._redis is not None:
            # keep the later of two pauses: SET only if absent, else raise it when ours ends later
            key = self._key(channel)
            ms = max(1, int(seconds * 1000))
            if not self._redis.set(key, repr(until), px=ms, nx=True):
                current = self._redis.get(key)
                if current is None or float(current) < until:
                    self._redis.set(key, repr(until), px=ms)
            return
        with self._lock:
            self._local[channel] = max(self._local.get(channel, 0.0), until)

    def remaining(self, channel: str) -> float:
        if self._redis is not None:
            value = self._redis.get(self._key(channel))
            return max(0.0, float(value) - time.time()) if value is not None else 0.0
        with self._lock:
            return max(0.0, self._local.get(channel, 0.0) - time.time())


class ChannelLimits:
    """The limits of one channel: `rate` messages a second overall, one per `per_chat` seconds per chat."""

    def __init__(self, backend: RateLimiterBackend, pauses: Pauses, prefix: str, channel: str, *,
                 rate: float, burst: int = 3, per_chat: int = 1, sleep: Callable[[float], None] = time.sleep) -> None:
        burst = max(1, min(burst, int(rate) or 1))
        self.channel = channel
        self.bucket_ms = max(1, round(1000 * burst / rate))
        self._global = BucketRateLimiter(backend, f"{prefix}:rl:{channel}", limit=burst, bucket=self.bucket_ms)
        self._backend, self._prefix, self._per_chat = backend, prefix, per_chat
        self._pauses = pauses
        self._sleep = sleep

    def acquire(self, stop: threading.Event, deadline: float) -> bool:
        """Block until this worker may send one message; False on stop or once `deadline` passes."""
        while not stop.is_set() and time.monotonic() < deadline:
            pause = self._pauses.remaining(self.channel)
            if pause > 0:
                self._sleep(min(pause, 0.5))
                continue
            with self._global.acquire(raise_on_failure=False) as ok:
                if ok:
                    return True
            now_ms = time.time() * 1000
            self._sleep((self.bucket_ms - now_ms % self.bucket_ms + random.uniform(0, 3)) / 1000)
        return False

    def acquire_chat(self, chat_key: str, stop: threading.Event, deadline: float) -> bool:
        """Block until this chat may get a message; False on stop or once `deadline` passes."""
        if self._per_chat <= 0:
            return True
        limiter = WindowRateLimiter(self._backend, f"{self._prefix}:chat:{self.channel}:{chat_key[:32]}",
                                    limit=1, window=self._per_chat + 1)
        while not stop.is_set() and time.monotonic() < deadline:
            with limiter.acquire(raise_on_failure=False) as ok:
                if ok:
                    return True
            self._sleep(1.0 - (time.time() % 1.0) + 0.005)
        return False

    def pause(self, seconds: float) -> None:
        self._pauses.pause(self.channel, seconds)


def make_backend(redis_url: str) -> tuple[RateLimiterBackend, Redis | None]:
    """The Redis backend when a URL is configured (shared by all workers), else in-process memory."""
    if not redis_url:
        return StubBackend(), None
    import redis
    from dramatiq.rate_limits.backends import RedisBackend

    client = redis.Redis.from_url(redis_url)
    return RedisBackend(client=client), client
