"""How many tips one conversation, and one network address, may file a day."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from bot.dialogue.context import Ctx
from bot.store.models import utcnow
from bot.store.ratelimit import RateLimiter


def tip_allowed(ctx: Ctx, per_day: int, per_address_per_day: int, digest: Callable[[str, str], str],
                reserve: bool = False) -> bool:
    """Room for one more tip today (a look at the start; an atomic reservation when filing)."""
    limiter = RateLimiter(ctx.session)
    day = timedelta(days=1)
    # Counted to the hour only, so that the time of a count does not point at the tip it was for.
    hour: datetime = utcnow().replace(minute=0, second=0, microsecond=0)

    def check(bucket: str, key: str, limit: int) -> bool:
        if reserve:
            return limiter.reserve(bucket, key, limit, day, at=hour)
        return limiter.allowed(bucket, key, limit, day)

    if not check("tip", ctx.key, per_day):
        return False
    if ctx.msg.address and not check("tip_ip", digest("ip", ctx.msg.address), per_address_per_day):
        if reserve:
            limiter.release("tip", ctx.key)
        return False
    return True
