"""Hardened authentication: revoked tokens and disabled users (Auth Emulator), clock skew,
certificate caching and Firebase App Check (real firebase-admin checks against keys served from
a local HTTP server)."""

import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from config import AuthMode, Environment, Settings
from tests.support.client import auth
from tests.support.firebase_tokens import TokenSigner, fake_service_account
from tests.support.google_keys import AppCheckSigner, GoogleKeyServer, google_key_server
from tools.devstack import AMQP_URL, REDIS_URL, Stack, delete_queue
from tools.devstack.emulator import revoke_tokens, set_disabled, sign_in, sign_up, unique_email

PROJECT = "demo-snapmatch"


# --- revocation and disabled users, against the Auth Emulator --------------------------------


REVOCATION_WINDOW_SECONDS = 3.0


@pytest.fixture(scope="module")
def revocation_stack(
    built_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """A gateway that checks revocation (as production does by default), trusting a verified
    token for a short window."""
    stack = Stack(
        queue=f"tasks-{uuid.uuid4().hex[:8]}",
        log_dir=tmp_path_factory.mktemp("revocation"),
        env_overrides={
            "SNAPMATCH_AUTH_CHECK_REVOKED": "true",
            "SNAPMATCH_AUTH_REVOCATION_CACHE_SECONDS": str(REVOCATION_WINDOW_SECONDS),
        },
    )
    stack.start_gateway()
    yield stack
    stack.stop()
    delete_queue(stack.queue)


def _poll_unknown_task(base_url: str, token: str) -> httpx.Response:
    return httpx.get(f"{base_url}/result/{uuid.uuid4()}", headers=auth(token), timeout=30)


def _refused_within_the_window(base_url: str, token: str, changed_at: float) -> httpx.Response:
    """Poll until the gateway refuses ``token``; fails unless that happens within the
    revocation window (plus a second for the request itself) after ``changed_at``."""
    while True:
        response = _poll_unknown_task(base_url, token)
        if response.status_code != 404:
            return response
        assert time.monotonic() - changed_at < REVOCATION_WINDOW_SECONDS + 1, (
            "the change was not noticed within the revocation window"
        )
        time.sleep(0.2)


def test_a_revoked_token_is_refused_within_the_revocation_window(revocation_stack: Stack) -> None:
    user = sign_up(unique_email())
    assert _poll_unknown_task(revocation_stack.base_url, user.id_token).status_code == 404
    # Firebase compares in whole seconds: revoke once the token's second has passed.
    issued_at = time.time()
    while time.time() < issued_at + 1.1:
        time.sleep(0.1)
    revoke_tokens(user.uid)
    revoked_at = time.monotonic()

    response = _refused_within_the_window(revocation_stack.base_url, user.id_token, revoked_at)
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "token_revoked"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    # Signing in again gives a token that is accepted.
    fresh = sign_in(user.email)
    assert _poll_unknown_task(revocation_stack.base_url, fresh.id_token).status_code == 404


def test_a_disabled_user_is_refused(revocation_stack: Stack, stack: Stack) -> None:
    user = sign_up(unique_email())
    set_disabled(user.uid)
    response = _poll_unknown_task(revocation_stack.base_url, user.id_token)
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "user_disabled"
    # Without revocation checks (the default outside production) the signature alone counts.
    assert _poll_unknown_task(stack.base_url, user.id_token).status_code == 404


def test_a_user_disabled_after_signing_in_is_refused_within_the_revocation_window(
    revocation_stack: Stack,
) -> None:
    user = sign_up(unique_email())
    assert _poll_unknown_task(revocation_stack.base_url, user.id_token).status_code == 404
    set_disabled(user.uid)
    disabled_at = time.monotonic()
    response = _refused_within_the_window(revocation_stack.base_url, user.id_token, disabled_at)
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "user_disabled"


# --- the production path, in-process, with Google's keys served locally ----------------------


@pytest.fixture(scope="module")
def signer() -> TokenSigner:
    return TokenSigner()


@pytest.fixture(scope="module")
def app_check_signer() -> AppCheckSigner:
    return AppCheckSigner()


ClientFactory = Callable[..., Any]


@pytest.fixture
def firebase_gateway(
    signer: TokenSigner,
    app_check_signer: AppCheckSigner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> ClientFactory:
    """``with firebase_gateway(**settings) as (client, keys):`` a production-mode gateway."""
    key_file = tmp_path / "service-account.json"
    key_file.write_text(json.dumps(fake_service_account(PROJECT, signer)))
    monkeypatch.delenv("FIREBASE_AUTH_EMULATOR_HOST", raising=False)

    @contextmanager
    def start(**overrides: Any) -> Iterator[tuple[TestClient, GoogleKeyServer]]:
        settings = Settings(
            _env_file=None,
            environment=Environment.PRODUCTION,
            auth_mode=AuthMode.FIREBASE,
            firebase_project_id=PROJECT,
            firebase_credentials=key_file,
            auth_check_revoked=False,  # a fake key cannot call Firebase's user API
            amqp_url=AMQP_URL,
            redis_url=REDIS_URL,
            task_queue=f"tasks-hardening-{uuid.uuid4().hex[:8]}",
            **overrides,
        )
        with (
            google_key_server(
                monkeypatch, id_token_signers=[signer], app_check_signers=[app_check_signer]
            ) as keys,
            TestClient(create_app(settings)) as client,
        ):
            yield client, keys
        delete_queue(settings.task_queue)

    return start


def _status(client: TestClient, headers: dict[str, str]) -> tuple[int, str]:
    response = client.get(f"/result/{uuid.uuid4()}", headers=headers)
    return response.status_code, response.json().get("error", response.json().get("status"))


def test_certificates_are_fetched_once_and_then_cached(
    firebase_gateway: ClientFactory, signer: TokenSigner
) -> None:
    with firebase_gateway() as (client, keys):
        for uid in ("alice", "bob", "alice"):
            token = signer.mint(uid, project_id=PROJECT)
            assert _status(client, auth(token)) == (404, "not_found")
        assert keys.cert_fetches == 1  # the later verifications did no network I/O


@pytest.mark.parametrize(("skew", "accepted"), [(0, False), (60, True)])
def test_clock_skew_tolerance_is_configurable(
    firebase_gateway: ClientFactory, signer: TokenSigner, skew: int, accepted: bool
) -> None:
    # Issued 30 s "in the future": the phone's clock is ahead of ours.
    token = signer.mint("alice", project_id=PROJECT, now=time.time() + 30)
    with firebase_gateway(auth_clock_skew_seconds=skew) as (client, _):
        status, code = _status(client, auth(token))
    assert (status, code) == ((404, "not_found") if accepted else (401, "invalid_token"))


def test_app_check_accepts_a_valid_token(
    firebase_gateway: ClientFactory, signer: TokenSigner, app_check_signer: AppCheckSigner
) -> None:
    headers = auth(signer.mint("alice", project_id=PROJECT))
    with firebase_gateway(app_check_enabled=True) as (client, keys):
        for _ in range(3):
            headers["X-Firebase-AppCheck"] = app_check_signer.mint(PROJECT)
            assert _status(client, headers) == (404, "not_found")
        assert keys.jwks_fetches == 1  # App Check's keys are cached too


def test_app_check_refuses_a_missing_token(
    firebase_gateway: ClientFactory, signer: TokenSigner
) -> None:
    with firebase_gateway(app_check_enabled=True) as (client, _):
        status, code = _status(client, auth(signer.mint("alice", project_id=PROJECT)))
    assert (status, code) == (401, "missing_app_check_token")


BAD_APP_CHECK: dict[str, Callable[[AppCheckSigner], str]] = {
    "garbage": lambda s: "not-a-token",
    "expired": lambda s: s.mint(PROJECT, expired=True),
    "other-project": lambda s: s.mint(PROJECT, audience=["projects/someone-else"]),
    "forged": lambda s: s.mint(PROJECT, signed_by=AppCheckSigner()),
    "unknown-key": lambda s: AppCheckSigner().mint(PROJECT),
}


@pytest.mark.parametrize("make_token", BAD_APP_CHECK.values(), ids=BAD_APP_CHECK.keys())
def test_app_check_refuses_invalid_tokens(
    firebase_gateway: ClientFactory,
    signer: TokenSigner,
    app_check_signer: AppCheckSigner,
    make_token: Callable[[AppCheckSigner], str],
) -> None:
    headers = auth(signer.mint("alice", project_id=PROJECT))
    headers["X-Firebase-AppCheck"] = make_token(app_check_signer)
    with firebase_gateway(app_check_enabled=True) as (client, _):
        assert _status(client, headers) == (401, "invalid_app_check_token")


def test_app_check_is_not_asked_for_when_disabled(
    firebase_gateway: ClientFactory, signer: TokenSigner
) -> None:
    with firebase_gateway() as (client, keys):
        assert _status(client, auth(signer.mint("alice", project_id=PROJECT))) == (
            404,
            "not_found",
        )
        assert keys.jwks_fetches == 0
