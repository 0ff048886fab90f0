"""What the page is told (/app/config.json) and what its Content-Security-Policy allows, in
development and in production."""

import base64
import hashlib

from app.web.page_config import EMULATOR_API_KEY, web_config
from app.web.policy import FIREBASE_AUTH_ORIGINS, docs_policy, page_policy
from config import AuthMode, Environment, Settings


def _production(**overrides: str) -> Settings:
    production = Settings(
        _env_file=None,
        environment=Environment.PRODUCTION,
        auth_mode=AuthMode.FIREBASE,
        firebase_project_id="shop-prod",
    )
    return production.model_copy(update=overrides)


def _directives(policy: str) -> dict[str, list[str]]:
    return {name: sources for name, *sources in (part.split() for part in policy.split("; "))}


def test_development_signs_in_against_the_emulator_with_any_key() -> None:
    config = web_config(Settings(_env_file=None))
    assert config.auth_emulator_url == "http://127.0.0.1:9099"
    assert config.firebase.api_key == EMULATOR_API_KEY
    assert config.firebase.project_id == "demo-snapmatch"
    policy = _directives(page_policy(Settings(_env_file=None)))
    assert policy["connect-src"] == ["'self'", "http://127.0.0.1:9099"]


def test_the_browser_may_reach_the_emulator_elsewhere_than_the_gateway_does() -> None:
    settings = Settings(
        _env_file=None,
        auth_emulator_host="auth-emulator:9099",
        web_auth_emulator_url="http://127.0.0.1:19099/",
    )
    assert web_config(settings).auth_emulator_url == "http://127.0.0.1:19099"
    assert _directives(page_policy(settings))["connect-src"] == ["'self'", "http://127.0.0.1:19099"]


def test_production_uses_the_projects_web_config_and_googles_auth_hosts_only() -> None:
    settings = _production(web_firebase_api_key="AIza-public-key")
    config = web_config(settings).model_dump(by_alias=True)
    assert config["firebase"] == {
        "apiKey": "AIza-public-key",
        "authDomain": "shop-prod.firebaseapp.com",
        "projectId": "shop-prod",
    }
    assert config["auth_emulator_url"] is None
    policy = _directives(page_policy(settings))
    assert policy["connect-src"] == ["'self'", *FIREBASE_AUTH_ORIGINS]
    assert "9099" not in page_policy(settings)


def test_production_without_a_web_key_tells_the_page_sign_in_is_not_configured() -> None:
    config = web_config(_production(web_firebase_auth_domain="login.shop.example"))
    assert config.firebase.api_key == ""
    assert config.firebase.auth_domain == "login.shop.example"


def test_the_page_policy_allows_no_inline_code_and_no_other_origin() -> None:
    policy = _directives(page_policy(Settings(_env_file=None)))
    assert policy["default-src"] == ["'none'"]
    # WebAssembly (the on-device model), but no eval of JavaScript.
    assert policy["script-src"] == ["'self'", "'wasm-unsafe-eval'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "blob:"]
    assert policy["frame-ancestors"] == ["'none'"]


def test_the_docs_policy_allows_exactly_their_inline_scripts_by_hash() -> None:
    script = "const ui = SwaggerUIBundle({url: '/openapi.json'})"
    expected = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    policy = _directives(docs_policy([script]))
    assert policy["script-src"] == ["'self'", f"'sha256-{expected}'"]
    assert policy["connect-src"] == ["'self'"]
