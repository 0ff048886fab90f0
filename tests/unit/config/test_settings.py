import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from config import AuthMode, Environment, Settings

README = Path(__file__).resolve().parents[3] / "README.md"


def test_defaults_match_the_documented_contract() -> None:
    settings = Settings(_env_file=None)
    assert settings.task_queue == "tasks"
    assert settings.result_ttl_seconds == 300
    assert settings.firebase_project_id == "demo-snapmatch"
    assert (settings.gateway_host, settings.gateway_port) == ("127.0.0.1", 8000)
    assert settings.auth_emulator_host == "127.0.0.1:9099"


def test_environment_variables_override_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SNAPMATCH_RESULT_TTL_SECONDS", "42")
    monkeypatch.setenv("SNAPMATCH_TASK_QUEUE", "tasks-x")
    settings = Settings(_env_file=None)
    assert settings.result_ttl_seconds == 42
    assert settings.task_queue == "tasks-x"


def test_emulator_auth_is_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="refused when environment=production"):
        Settings(environment=Environment.PRODUCTION, auth_mode=AuthMode.EMULATOR, _env_file=None)


def test_production_with_firebase_auth_is_accepted() -> None:
    settings = Settings(
        environment=Environment.PRODUCTION,
        auth_mode=AuthMode.FIREBASE,
        _env_file=None,
    )
    assert settings.auth_mode is AuthMode.FIREBASE


def test_every_setting_is_documented_in_the_readme() -> None:
    table_rows = re.findall(r"^\| `(SNAPMATCH_[A-Z0-9_]+)` \|", README.read_text(), re.MULTILINE)
    documented = set(table_rows)
    expected = {f"SNAPMATCH_{name.upper()}" for name in Settings.model_fields}
    assert expected - documented == set(), "add these to the README's configuration table"
    assert documented - expected == set(), "the README documents settings that do not exist"


@pytest.mark.parametrize(
    ("environment", "auth_mode", "expected"),
    [
        (Environment.PRODUCTION, AuthMode.FIREBASE, True),
        (Environment.DEVELOPMENT, AuthMode.EMULATOR, False),
        (Environment.TEST, AuthMode.EMULATOR, False),
    ],
)
def test_revocation_checks_default_to_on_in_production_only(
    environment: Environment, auth_mode: AuthMode, expected: bool
) -> None:
    settings = Settings(environment=environment, auth_mode=auth_mode, _env_file=None)
    assert settings.check_revoked is expected
    forced = Settings(
        environment=environment,
        auth_mode=auth_mode,
        auth_check_revoked=not expected,
        _env_file=None,
    )
    assert forced.check_revoked is (not expected)


def test_app_check_needs_firebase_auth() -> None:
    with pytest.raises(ValidationError, match="needs auth_mode=firebase"):
        Settings(app_check_enabled=True, auth_mode=AuthMode.EMULATOR, _env_file=None)


@pytest.mark.parametrize("skew", [-1, 61])
def test_clock_skew_is_bounded_as_firebase_admin_allows(skew: int) -> None:
    with pytest.raises(ValidationError):
        Settings(auth_clock_skew_seconds=skew, _env_file=None)


def test_cors_origins_are_read_as_a_json_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SNAPMATCH_CORS_ALLOWED_ORIGINS", '["https://app.example"]')
    assert Settings(_env_file=None).cors_allowed_origins == ["https://app.example"]


@pytest.mark.parametrize(
    "value",
    [
        "amqp://u:p@rabbit-0:5672/v,amqp://u:p@rabbit-1:5672/v",
        " amqp://u:p@rabbit-0:5672/v , amqp://u:p@rabbit-1:5672/v ",
        '["amqp://u:p@rabbit-0:5672/v", "amqp://u:p@rabbit-1:5672/v"]',
    ],
)
def test_several_brokers_are_read_comma_separated_or_as_a_json_list(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("SNAPMATCH_AMQP_URLS", value)
    assert Settings(_env_file=None).broker_urls == [
        "amqp://u:p@rabbit-0:5672/v",
        "amqp://u:p@rabbit-1:5672/v",
    ]


def test_without_a_broker_list_the_single_url_is_used() -> None:
    settings = Settings(_env_file=None, amqp_url="amqp://u:p@rabbit:5672/v")
    assert settings.broker_urls == ["amqp://u:p@rabbit:5672/v"]


def test_a_broker_list_must_hold_amqp_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SNAPMATCH_AMQP_URLS", "amqp://u:p@rabbit-0:5672/v,rabbit-1:5672")
    with pytest.raises(ValidationError, match="amqp_urls"):
        Settings(_env_file=None)


def test_sentinels_are_host_port_pairs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SNAPMATCH_REDIS_SENTINELS", "sentinel-0:26379, [::1]:26380")
    assert Settings(_env_file=None).redis_sentinel_addresses == [
        ("sentinel-0", 26379),
        ("::1", 26380),
    ]
    assert Settings(_env_file=None, redis_sentinels=[]).redis_sentinel_addresses == []


@pytest.mark.parametrize("address", ["sentinel-0", "sentinel-0:", ":26379", "sentinel-0:70000"])
def test_a_sentinel_without_a_valid_port_is_refused(address: str) -> None:
    with pytest.raises(ValidationError, match="is not host:port"):
        Settings(_env_file=None, redis_sentinels=[address])


def test_replica_acks_are_off_unless_asked_for() -> None:
    settings = Settings(_env_file=None)
    assert settings.redis_min_replica_acks == 0
    with pytest.raises(ValidationError):
        Settings(_env_file=None, redis_replica_ack_timeout_ms=0)  # 0 would make WAIT block forever


def test_webhooks_need_a_well_formed_secret() -> None:
    url = "https://hooks.example.com/snapmatch"
    with pytest.raises(ValidationError, match="without webhook_secret"):
        Settings(webhook_url=url, _env_file=None)
    for bad, reason in (("whsec_not base64!", "base64"), ("whsec_c2hvcnQ=", "5 bytes")):
        with pytest.raises(ValidationError, match=reason):
            Settings(webhook_url=url, webhook_secret=bad, _env_file=None)
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    settings = Settings(webhook_url=url, webhook_secret=secret, _env_file=None)
    assert settings.webhook_secret is not None
    assert settings.webhook_secret.get_secret_value() == secret
