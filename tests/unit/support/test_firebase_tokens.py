"""tests/support/firebase_tokens.py against firebase-admin's real RS256 verification."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import firebase_admin
import pytest
import requests
from firebase_admin import _token_gen, auth, credentials

from tests.support.firebase_tokens import (
    ID_TOKEN_CERT_URL,
    OMIT,
    TokenSigner,
    fake_service_account,
    serve_google_certs,
)

PROJECT_ID = "demo-snapmatch"


@pytest.fixture(scope="module")
def signer() -> TokenSigner:
    return TokenSigner()


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> Iterator[firebase_admin.App]:
    """A dedicated firebase app in production mode (no emulator), fresh certificate cache."""
    monkeypatch.delenv("FIREBASE_AUTH_EMULATOR_HOST", raising=False)
    monkeypatch.setenv("NO_GCE_CHECK", "true")
    test_app = firebase_admin.initialize_app(
        credentials.Certificate(fake_service_account(PROJECT_ID)),
        options={"projectId": PROJECT_ID},
        name=f"token-support-{uuid.uuid4().hex}",
    )
    try:
        yield test_app
    finally:
        firebase_admin.delete_app(test_app)


def verify(token: str, app: firebase_admin.App) -> dict[str, Any]:
    claims: dict[str, Any] = auth.verify_id_token(token, app=app)
    return claims


def test_cert_url_matches_firebase_admin() -> None:
    assert ID_TOKEN_CERT_URL == _token_gen.ID_TOKEN_CERT_URI


def test_minted_token_verifies(signer: TokenSigner, app: firebase_admin.App) -> None:
    other = TokenSigner()
    with serve_google_certs(other, signer) as certs:
        claims = verify(signer.mint("alice", project_id=PROJECT_ID, email="a@x.test"), app)
        verify(other.mint("bob", project_id=PROJECT_ID), app)
        # Not cached although max-age=3600: CacheControl never sees responses' body "closed".
        # Should this start failing with 1, tests can no longer switch signers per app.
        assert certs.fetch_count == 2
    assert claims["uid"] == claims["sub"] == claims["user_id"] == "alice"
    assert claims["aud"] == PROJECT_ID
    assert claims["iss"] == f"https://securetoken.google.com/{PROJECT_ID}"
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["email"] == "a@x.test"
    assert claims["firebase"]["sign_in_provider"] == "password"


@pytest.mark.parametrize(
    ("mint_kwargs", "message"),
    [
        ({"audience": "another-project"}, 'incorrect "aud"'),
        ({"issuer": "https://securetoken.google.com/another-project"}, 'incorrect "iss"'),
        ({"unsigned": True}, 'incorrect algorithm. Expected "RS256" but got "none"'),
        ({"kid": OMIT}, 'no "kid" claim'),
        ({"kid": "unknown-kid"}, "Certificate for key id unknown-kid not found"),
        ({"sub": ""}, 'empty string "sub"'),
        ({"sub": OMIT}, 'no "sub"'),
        # Issued 10 minutes from when the test runs (not from collection: a long suite
        # collects its unit tests long before it runs them).
        ({"issued_in_seconds": 600}, "Token used too early"),
    ],
    ids=["audience", "issuer", "alg-none", "no-kid", "unknown-kid", "empty-sub", "no-sub", "iat"],
)
def test_bad_tokens_are_invalid(
    signer: TokenSigner, app: firebase_admin.App, mint_kwargs: dict[str, Any], message: str
) -> None:
    kwargs = dict(mint_kwargs)
    if "issued_in_seconds" in kwargs:
        kwargs["now"] = time.time() + kwargs.pop("issued_in_seconds")
    with serve_google_certs(signer), pytest.raises(auth.InvalidIdTokenError, match=message) as err:
        verify(signer.mint("alice", project_id=PROJECT_ID, **kwargs), app)
    assert not isinstance(err.value, auth.ExpiredIdTokenError)


def test_other_key_with_same_kid_is_invalid(signer: TokenSigner, app: firebase_admin.App) -> None:
    token = signer.mint("alice", project_id=PROJECT_ID, signed_by=signer.impostor())
    with serve_google_certs(signer), pytest.raises(auth.InvalidIdTokenError, match="signature"):
        verify(token, app)


def test_expired_token(signer: TokenSigner, app: firebase_admin.App) -> None:
    with serve_google_certs(signer), pytest.raises(auth.ExpiredIdTokenError):
        verify(signer.mint("alice", project_id=PROJECT_ID, expired=True), app)


def test_certificate_fetch_failure(signer: TokenSigner, app: firebase_admin.App) -> None:
    with serve_google_certs(signer, status=503), pytest.raises(auth.CertificateFetchError):
        verify(signer.mint("alice", project_id=PROJECT_ID), app)


def test_no_cache_refetches(signer: TokenSigner, app: firebase_admin.App) -> None:
    with serve_google_certs(signer, max_age=0) as certs:
        for _ in range(2):
            verify(signer.mint("alice", project_id=PROJECT_ID), app)
        assert certs.fetch_count == 2


def test_other_requests_pass_through(signer: TokenSigner) -> None:
    class Hello(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "5")
            self.end_headers()
            self.wfile.write(b"hello")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with serve_google_certs(signer) as certs:
            response = requests.get(f"http://127.0.0.1:{server.server_port}/", timeout=5)
            assert response.text == "hello"
            assert certs.fetch_count == 0
    finally:
        server.shutdown()
        server.server_close()
