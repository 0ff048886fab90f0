"""Google's public-key endpoints served from a real local HTTP server, counting every hit.

firebase-admin fetches ID-token certificates with ``requests`` (cached per ``Cache-Control`` by
CacheControl) and App Check's JWKS with PyJWT's ``PyJWKClient`` (``urllib``, cached in memory).
Unlike a ``requests`` mock, a real server exercises both HTTP stacks and their caches, so a test
can count how many verifications actually reached the network.

:func:`google_key_server` starts the server and points firebase-admin's two URLs at it (module
and class constants read when a firebase app's auth client / App Check service is created).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from firebase_admin import _token_gen, app_check

from tests.support.firebase_tokens import TokenSigner

CERTS_PATH = "/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com"
JWKS_PATH = "/v1/jwks"
APP_CHECK_ISSUER_PREFIX = "https://firebaseappcheck.googleapis.com/"
PROJECT_NUMBER = "123456789012"


@dataclass(eq=False)
class AppCheckSigner:
    """An RSA key standing in for one of App Check's signing keys."""

    kid: str = field(default_factory=lambda: secrets.token_hex(8))
    private_key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
        repr=False,
    )

    def jwk(self) -> dict[str, Any]:
        key: dict[str, Any] = json.loads(
            jwt.algorithms.RSAAlgorithm.to_jwk(self.private_key.public_key())
        )
        return key | {"kid": self.kid, "alg": "RS256", "use": "sig"}

    def mint(
        self,
        project_id: str,
        *,
        app_id: str = f"1:{PROJECT_NUMBER}:android:0123456789abcdef",
        expired: bool = False,
        audience: list[str] | None = None,
        signed_by: AppCheckSigner | None = None,
    ) -> str:
        """An App Check token as Firebase issues them (RS256, ``typ: JWT``, list audience)."""
        now = int(time.time()) - (7200 if expired else 0)
        claims = {
            "iss": APP_CHECK_ISSUER_PREFIX + PROJECT_NUMBER,
            "sub": app_id,
            "aud": audience or [f"projects/{PROJECT_NUMBER}", f"projects/{project_id}"],
            "iat": now,
            "exp": now + 3600,
        }
        key = (signed_by or self).private_key
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": self.kid, "typ": "JWT"})


@dataclass
class GoogleKeyServer:
    base_url: str
    hits: Counter[str]
    id_token_signers: list[TokenSigner]
    app_check_signers: list[AppCheckSigner]

    @property
    def cert_fetches(self) -> int:
        return self.hits[CERTS_PATH]

    @property
    def jwks_fetches(self) -> int:
        return self.hits[JWKS_PATH]


def _handler(server: GoogleKeyServer, max_age: int) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            server.hits[self.path] += 1
            if self.path == CERTS_PATH:
                body: Any = {s.kid: s.certificate_pem for s in server.id_token_signers}
            elif self.path == JWKS_PATH:
                body = {"keys": [s.jwk() for s in server.app_check_signers]}
            else:
                self.send_error(404)
                return
            payload = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Cache-Control", f"public, max-age={max_age}")
            self.send_header("Date", formatdate(usegmt=True))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def google_key_server(
    monkeypatch: pytest.MonkeyPatch,
    *,
    id_token_signers: list[TokenSigner] | None = None,
    app_check_signers: list[AppCheckSigner] | None = None,
    max_age: int = 3600,
) -> Iterator[GoogleKeyServer]:
    """Serve the signers' public keys on 127.0.0.1 and point firebase-admin at them.

    Create the firebase app (the gateway) inside the block: firebase-admin reads the URLs when
    it builds its token verifier and App Check service, on first use.
    """
    state = GoogleKeyServer("", Counter(), id_token_signers or [], app_check_signers or [])
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state, max_age))
    state.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setattr(_token_gen, "ID_TOKEN_CERT_URI", state.base_url + CERTS_PATH)
    monkeypatch.setattr(app_check._AppCheckService, "_JWKS_URL", state.base_url + JWKS_PATH)
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
