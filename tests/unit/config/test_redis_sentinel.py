"""What a Sentinel-configured client keeps of SNAPMATCH_REDIS_URL, and how it meets Sentinel."""

from pydantic import SecretStr

from config import Settings
from config.redis_sentinel import primary_options, sentinel_options


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, redis_sentinels=["127.0.0.1:26379"], **values)  # type: ignore[arg-type]


def test_the_url_gives_database_and_credentials_but_not_the_address() -> None:
    options = primary_options(_settings(redis_url="redis://app:s%40cret@ignored:6380/3"))
    assert options["db"] == 3
    assert (options["username"], options["password"]) == ("app", "s@cret")
    assert "host" not in options and "port" not in options


def test_a_tls_url_asks_sentinel_for_tls_connections() -> None:
    options = primary_options(_settings(redis_url="rediss://ignored:6380/0"))
    assert options["ssl"] is True
    assert "connection_class" not in options


def test_sentinels_get_their_own_password_and_timeouts() -> None:
    plain = sentinel_options(_settings(), timeout_seconds=2.0)
    assert plain == {"socket_timeout": 2.0, "socket_connect_timeout": 2.0}
    secured = sentinel_options(
        _settings(redis_sentinel_password=SecretStr("watch")), timeout_seconds=2.0
    )
    assert secured["password"] == "watch"
