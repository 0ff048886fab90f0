import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from config import AuthMode, Environment, Settings

README = Path(__file__).resolve().parents[2] / "README.md"


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
