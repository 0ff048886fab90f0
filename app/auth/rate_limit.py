"""Per-user request budgets kept in Redis, so that every gateway replica counts the same hits.

A moving window (the ``limits`` library's Redis strategy, one atomic Lua script per hit): a user
may make ``amount`` requests in any ``window`` seconds; the next one is refused with the number of
seconds until the oldest counted request leaves the window.
"""

import math
import time
from enum import StrEnum

import redis.asyncio as aioredis
import structlog
from limits import RateLimitItemPerSecond
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError

from config import Settings
from contracts.redis_keys import RATE_LIMIT_KEY_PREFIX

logger = structlog.stdlib.get_logger(__name__)


class RateLimitScope(StrEnum):
    """What a budget is spent on; part of the Redis key."""

    UPLOAD = "upload"
    POLL = "poll"


class RateLimitExceeded(Exception):
    def __init__(
        self, scope: RateLimitScope, limit: int, window_seconds: int, retry_after_seconds: int
    ) -> None:
        super().__init__(f"{scope.value} budget of {limit} per {window_seconds} s spent")
        self.scope = scope
        self.limit = limit
        self.window_seconds = window_seconds
        self.retry_after_seconds = retry_after_seconds


class UserRateLimiter:
    """Counts each user's uploads and polls against the configured budgets."""

    def __init__(self, settings: Settings, redis: aioredis.Redis) -> None:
        self._window = settings.rate_limit_window_seconds
        self._items = {
            scope: RateLimitItemPerSecond(amount, self._window, namespace=scope.value)
            for scope, amount in (
                (RateLimitScope.UPLOAD, settings.upload_rate_limit),
                (RateLimitScope.POLL, settings.poll_rate_limit),
            )
            if amount > 0
        }
        storage = RedisStorage(
            "async+" + str(settings.redis_url),
            implementation="redispy",
            key_prefix=RATE_LIMIT_KEY_PREFIX,
            connection_pool=redis.connection_pool,  # type: ignore[arg-type]
        )
        self._limiter = MovingWindowRateLimiter(storage)

    async def hit(self, scope: RateLimitScope, uid: str, *, cost: int = 1) -> None:
        """Count ``cost`` requests of ``uid`` (a batch of N photos is N uploads); raise
        :class:`RateLimitExceeded` when over budget.

        A Redis outage lets requests through (logged): the limit protects the service, and
        refusing every request while Redis is away would be the outage it protects against.
        """
        item = self._items.get(scope)
        if item is None:
            return
        try:
            if cost <= 0 or await self._limiter.hit(item, uid, cost=cost):
                return
            stats = await self._limiter.get_window_stats(item, uid)
        except (RedisError, OSError) as exc:
            logger.warning("rate limit not enforced, Redis unavailable", error=str(exc))
            return
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise RateLimitExceeded(scope, item.amount, self._window, retry_after)
