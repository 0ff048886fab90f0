"""The gateway's Redis clients: one shared pool for requests, one idle-tolerant subscriber."""

import redis.asyncio as aioredis

from config import Settings

# A request waits at most this long for Redis before it answers 503.
REDIS_TIMEOUT_SECONDS = 2.0


def request_client(settings: Settings) -> aioredis.Redis:
    """For the task store and the rate limiter: short timeouts, a pool shared by requests."""
    return aioredis.Redis.from_url(
        str(settings.redis_url),
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        health_check_interval=30,
    )


def subscriber_client(settings: Settings) -> aioredis.Redis:
    """For the result announcements: no read timeout, since a subscription is idle by nature."""
    return aioredis.Redis.from_url(
        str(settings.redis_url),
        socket_timeout=None,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
    )
