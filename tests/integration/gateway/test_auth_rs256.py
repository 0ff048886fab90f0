"""The production verification path: real RS256 checks by firebase-admin, with only Google's
certificate endpoint answered locally. The gateway runs in-process against the real services."""

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from config import AuthMode, Environment, Settings
from tests.support.firebase_tokens import (
    OMIT,
    GoogleCertsStub,
    TokenSigner,
    fake_service_account,
    serve_google_certs,
)
from tools.devstack import AMQP_URL, REDIS_URL, delete_queue

PROJECT = "demo-snapmatch"


@pytest.fixture(scope="module")
def signer() -> TokenSigner:
    return TokenSigner()


@pytest.fixture(scope="module")
def certs(signer: TokenSigner) -> Iterator[GoogleCertsStub]:
    with serve_google_certs(signer) as stub:
        yield stub


@pytest.fixture(scope="module")
def client(
    certs: GoogleCertsStub, signer: TokenSigner, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    key_file: Path = tmp_path_factory.mktemp("secrets") / "service-account.json"
    key_file.write_text(json.dumps(fake_service_account(PROJECT, signer)))
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("FIREBASE_AUTH_EMULATOR_HOST", raising=False)
        settings = Settings(
            _env_file=None,
            environment=Environment.PRODUCTION,
            auth_mode=AuthMode.FIREBASE,
            firebase_project_id=PROJECT,
            firebase_credentials=key_file,
            # Revocation checks call Firebase's user API, which a fake key cannot reach; they
            # are tested against the Auth Emulator (test_auth_hardening.py).
            auth_check_revoked=False,
            amqp_url=AMQP_URL,
            redis_url=REDIS_URL,
            task_queue=f"tasks-auth-{uuid.uuid4().hex[:8]}",
        )
        with TestClient(create_app(settings)) as test_client:
            yield test_client
        delete_queue(settings.task_queue)


def _get_result(client: TestClient, token: str | None) -> tuple[int, dict[str, object], str]:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    response = client.get(f"/result/{uuid.uuid4()}", headers=headers)
    return response.status_code, response.json(), response.headers.get("WWW-Authenticate", "")


def test_a_valid_token_is_accepted(client: TestClient, signer: TokenSigner) -> None:
    status, body, _ = _get_result(client, signer.mint("alice", project_id=PROJECT))
    assert (status, body["status"]) == (404, "not_found")  # authenticated, the task is unknown


def test_a_valid_token_can_upload(
    client: TestClient, signer: TokenSigner, coffee_jpeg: bytes
) -> None:
    token = signer.mint("alice", project_id=PROJECT)
    response = client.post(
        "/predict",
        headers={"Authorization": f"Bearer {token}"},
        files={"image": ("c.jpg", coffee_jpeg, "image/jpeg")},
    )
    assert response.status_code == 202, response.text
    pending = client.get(response.headers["Location"], headers={"Authorization": f"Bearer {token}"})
    assert pending.json()["status"] == "pending"


def test_a_missing_token_is_refused(client: TestClient) -> None:
    status, body, challenge = _get_result(client, None)
    assert (status, body["error"], challenge) == (401, "missing_token", "Bearer")


MALFORMED = {
    "garbage": "not-a-token",
    "two-parts": "abc.def",
    "bad-base64": "!!!.???.***",
}


@pytest.mark.parametrize("token", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_tokens_are_refused(client: TestClient, token: str) -> None:
    status, body, challenge = _get_result(client, token)
    assert (status, body["error"]) == (401, "invalid_token")
    assert challenge == 'Bearer error="invalid_token"'


@pytest.mark.parametrize(
    ("variant", "detail"),
    [
        ({"expired": True}, "expired"),
        ({"audience": "someone-elses-project"}, "aud"),
        ({"issuer": "https://securetoken.google.com/someone-elses-project"}, "iss"),
        ({"unsigned": True}, ""),
        ({"kid": OMIT}, "kid"),
        ({"kid": "unknown-key-id"}, ""),
        ({"sub": ""}, "sub"),
    ],
    ids=[
        "expired",
        "wrong-audience",
        "wrong-issuer",
        "alg-none",
        "no-kid",
        "unknown-kid",
        "empty-sub",
    ],
)
def test_bad_tokens_are_refused(
    client: TestClient, signer: TokenSigner, variant: dict[str, Any], detail: str
) -> None:
    token = signer.mint("mallory", project_id=PROJECT, **variant)
    status, body, challenge = _get_result(client, token)
    assert (status, body["error"]) == (401, "invalid_token"), body
    assert detail.lower() in str(body["detail"]).lower()
    assert challenge.startswith("Bearer")


def test_a_token_signed_by_another_key_is_refused(client: TestClient, signer: TokenSigner) -> None:
    token = signer.mint("mallory", project_id=PROJECT, signed_by=signer.impostor())
    status, body, _ = _get_result(client, token)
    assert (status, body["error"]) == (401, "invalid_token")


def test_the_emulator_variable_cannot_switch_off_signature_checks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FIREBASE_AUTH_EMULATOR_HOST", "127.0.0.1:9099")
    settings = Settings(
        _env_file=None,
        environment=Environment.PRODUCTION,
        auth_mode=AuthMode.FIREBASE,
    )
    with (
        pytest.raises(RuntimeError, match="FIREBASE_AUTH_EMULATOR_HOST is set"),
        TestClient(create_app(settings)),
    ):
        pass
