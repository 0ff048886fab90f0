"""The gateway's Redis clients: one shared pool for requests, one idle-tolerant subscriber.

Both reach the primary at ``SNAPMATCH_REDIS_URL``, or through Sentinel when
``SNAPMATCH_REDIS_SENTINELS`` is set (``config.redis_sentinel``): then a connection lost in a
failover is replaced by one to the promoted replica.
"""

from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.sentinel import Sentinel

from config import Settings
from config.redis_sentinel import primary_options, sentinel_options

# A request waits at most this long for Redis before it answers 503.
REDIS_TIMEOUT_SECONDS = 2.0


def request_client(settings: Settings) -> aioredis.Redis:
    """For the task store and the rate limiter: short timeouts, a pool shared by requests."""
    return _client(
        settings,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        health_check_interval=30,
    )


def subscriber_client(settings: Settings) -> aioredis.Redis:
    """For the result announcements: no read timeout, since a subscription is idle by nature."""
    return _client(settings, socket_timeout=None, socket_connect_timeout=REDIS_TIMEOUT_SECONDS)


def _client(settings: Settings, **options: Any) -> aioredis.Redis:
    if not settings.redis_sentinels:
        return aioredis.Redis.from_url(str(settings.redis_url), **options)
    sentinel = Sentinel(  # type: ignore[no-untyped-call]
        settings.redis_sentinel_addresses,
        sentinel_kwargs=sentinel_options(settings, timeout_seconds=REDIS_TIMEOUT_SECONDS),
        **primary_options(settings),
        **options,
    )
    primary: aioredis.Redis = sentinel.master_for(settings.redis_sentinel_service)
    return primary
