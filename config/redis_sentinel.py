"""Reaching the Redis primary through Sentinel: the options the gateway's (asyncio) and the
worker's (blocking) clients both pass to redis-py's ``Sentinel``.

With ``SNAPMATCH_REDIS_SENTINELS`` set, a client asks the Sentinels where the primary of
``SNAPMATCH_REDIS_SENTINEL_SERVICE`` is on every new connection, so after a failover it finds
the promoted replica by itself; ``SNAPMATCH_REDIS_URL`` then only says which database, user,
password and TLS to use there.
"""

from typing import Any

from redis.connection import SSLConnection, parse_url

from config.settings import Settings


def primary_options(settings: Settings) -> dict[str, Any]:
    """``redis_url`` without its host and port: database, credentials, TLS."""
    options: dict[str, Any] = parse_url(str(settings.redis_url))  # type: ignore[no-untyped-call]
    options.pop("host", None)
    options.pop("port", None)
    if options.pop("connection_class", None) is SSLConnection:
        options["ssl"] = True  # Sentinel's pool picks its own TLS connection class from this
    return options


def sentinel_options(settings: Settings, *, timeout_seconds: float) -> dict[str, Any]:
    """How to talk to the Sentinels themselves."""
    options: dict[str, Any] = {
        "socket_timeout": timeout_seconds,
        "socket_connect_timeout": timeout_seconds,
    }
    if settings.redis_sentinel_password is not None:
        options["password"] = settings.redis_sentinel_password.get_secret_value()
    return options
