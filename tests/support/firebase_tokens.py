"""Firebase-shaped RS256 ID tokens signed with our own key, for offline tests of the real
(production) verification path of ``firebase_admin.auth.verify_id_token``.

firebase-admin fetches Google's signing certificates (``{kid: x509 PEM}``) from
:data:`ID_TOKEN_CERT_URL` with ``requests``; :func:`serve_google_certs` answers that URL with
the certificates of our :class:`TokenSigner` objects through the ``responses`` library and lets
every other ``requests`` call through (httpx and other clients are never touched).

    signer = TokenSigner()
    with serve_google_certs(signer):
        token = signer.mint("alice", project_id="demo-snapmatch")
        claims = auth.verify_id_token(token, app=app)   # FIREBASE_AUTH_EMULATOR_HOST unset

Caching: in production firebase-admin keeps the certificates per firebase app for ``max-age``
seconds (CacheControl). Under ``responses`` it does not: CacheControl stores a response only
once its body stream reports "closed", which ``responses``' in-memory bodies never do, so every
``verify_id_token`` fetches the certificates again (``GoogleCertsStub.fetch_count`` counts them;
tests/unit/test_token_support.py pins this). Don't rely on it: a module- or session-wide
signer (stable ``kid``) works either way; ``max_age=0`` forces re-fetching for sure.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import secrets
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any, Final

import responses
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

#: firebase_admin._token_gen.ID_TOKEN_CERT_URI (tests/unit/test_token_support.py pins it).
ID_TOKEN_CERT_URL: Final = (
    "https://www.googleapis.com/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com"
)
ISSUER_PREFIX: Final = "https://securetoken.google.com/"
TOKEN_LIFETIME_SECONDS: Final = 3600


class _Omit:
    def __repr__(self) -> str:
        return "OMIT"


#: Pass as a claim override (``mint(..., sub=OMIT)``) to leave the claim out entirely.
OMIT: Final = _Omit()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_json(value: Mapping[str, Any]) -> str:
    return _b64url(json.dumps(value, separators=(",", ":")).encode())


def _self_signed_certificate(key: rsa.RSAPrivateKey, common_name: str) -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


@dataclass(frozen=True, eq=False)
class TokenSigner:
    """An RSA-2048 key and self-signed certificate standing in for one of Google's keys.

    ``TokenSigner()`` generates a fresh key (~0.1 s) with a random ``kid``.
    """

    kid: str = field(default_factory=lambda: secrets.token_hex(20))
    private_key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
        repr=False,
    )
    certificate_pem: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "certificate_pem", _self_signed_certificate(self.private_key, "snapmatch-test")
        )

    def impostor(self) -> TokenSigner:
        """Another key that claims this signer's ``kid`` (its tokens must fail the signature)."""
        return TokenSigner(kid=self.kid)

    def claims(
        self,
        uid: str,
        *,
        project_id: str,
        now: int | float | None = None,
        email: str | None = None,
        expired: bool = False,
        audience: str | None = None,
        issuer: str | None = None,
        **overrides: Any,
    ) -> dict[str, Any]:
        """The payload :meth:`mint` signs (see there for the arguments)."""
        issued_at = int(time.time() if now is None else now)
        if expired:
            issued_at -= 2 * TOKEN_LIFETIME_SECONDS
        identities: dict[str, list[str]] = {"email": [email]} if email else {}
        payload: dict[str, Any] = {
            "iss": issuer if issuer is not None else ISSUER_PREFIX + project_id,
            "aud": audience if audience is not None else project_id,
            "auth_time": issued_at,
            "user_id": uid,
            "sub": uid,
            "iat": issued_at,
            "exp": issued_at + TOKEN_LIFETIME_SECONDS,
            "firebase": {"identities": identities, "sign_in_provider": "password"},
        }
        if email:
            payload["email"] = email
            payload["email_verified"] = False
        for name, value in overrides.items():
            if value is OMIT:
                payload.pop(name, None)
            else:
                payload[name] = value
        return payload

    def mint(
        self,
        uid: str,
        *,
        project_id: str,
        now: int | float | None = None,
        email: str | None = None,
        expired: bool = False,
        audience: str | None = None,
        issuer: str | None = None,
        unsigned: bool = False,
        kid: str | _Omit | None = None,
        signed_by: TokenSigner | None = None,
        **overrides: Any,
    ) -> str:
        """A Firebase-shaped RS256 ID token for ``uid`` in ``project_id``.

        Claims: iss ``https://securetoken.google.com/<project>``, aud ``<project>``, sub and
        user_id ``uid``, iat/auth_time ``now`` (default: the current time), exp ``iat + 3600``,
        firebase ``{identities, sign_in_provider: "password"}``, plus email when given.

        Knobs for the rejection paths (firebase-admin's exception in brackets):

        - ``expired=True``: iat two hours ago, exp one hour ago [ExpiredIdTokenError]
        - ``audience="other"`` / ``issuer="https://..."`` [InvalidIdTokenError]
        - ``unsigned=True``: header ``alg: none``, empty signature [InvalidIdTokenError]
        - ``signed_by=signer.impostor()``: another key, this ``kid`` [InvalidIdTokenError]
        - ``kid=OMIT``: no ``kid`` header; ``kid="x"``: unknown kid [InvalidIdTokenError]
        - ``sub=""`` or any claim override, ``claim=OMIT`` drops a claim [InvalidIdTokenError]

        ``now`` in the future makes the token "used too early" [InvalidIdTokenError].
        """
        payload = self.claims(
            uid,
            project_id=project_id,
            now=now,
            email=email,
            expired=expired,
            audience=audience,
            issuer=issuer,
            **overrides,
        )
        header: dict[str, Any] = {"alg": "none" if unsigned else "RS256", "typ": "JWT"}
        if kid is None:
            header["kid"] = self.kid
        elif not isinstance(kid, _Omit):
            header["kid"] = kid
        signing_input = f"{_b64url_json(header)}.{_b64url_json(payload)}"
        if unsigned:
            return signing_input + "."
        key = (signed_by or self).private_key
        signature = key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64url(signature)}"


def fake_service_account(project_id: str, signer: TokenSigner | None = None) -> dict[str, str]:
    """A syntactically valid service-account JSON (as a dict) with our own key.

    firebase-admin outside emulator mode needs *some* credential before ``verify_id_token``
    works (it builds the auth client eagerly; without one it tries application default
    credentials and raises ``DefaultCredentialsError``). Verifying ID tokens never uses it, so a
    fake one is enough: ``credentials.Certificate(fake_service_account(p))``, or write it to a
    file for ``GOOGLE_APPLICATION_CREDENTIALS`` / ``SNAPMATCH_FIREBASE_CREDENTIALS``. Any call
    that needs an access token (``check_revoked=True``, user management) would fail.
    """
    key = (signer or TokenSigner()).private_key
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    email = f"firebase-adminsdk-test@{project_id}.iam.gserviceaccount.com"
    return {
        "type": "service_account",
        "project_id": project_id,
        "private_key_id": secrets.token_hex(20),
        "private_key": pem,
        "client_email": email,
        "client_id": "100000000000000000000",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
    }


@dataclass(frozen=True)
class GoogleCertsStub:
    """What :func:`serve_google_certs` yields."""

    mock: responses.RequestsMock
    certificates: dict[str, str]

    @property
    def fetch_count(self) -> int:
        """How many times the certificate URL was requested (firebase-admin caches it)."""
        return sum(1 for call in self.mock.calls if call.request.url == ID_TOKEN_CERT_URL)


@contextmanager
def serve_google_certs(
    *signers: TokenSigner, max_age: int = 3600, status: int = 200
) -> Iterator[GoogleCertsStub]:
    """Answer firebase-admin's certificate URL with ``{kid: certificate PEM}`` of ``signers``.

    Every other ``requests`` call (the emulator, local services, ...) goes through to the
    network untouched. ``status`` other than 200 makes firebase-admin raise
    ``CertificateFetchError``; ``max_age`` becomes ``Cache-Control: public, max-age=N``
    (0: ``no-cache, no-store``; see the module docstring on caching).

    The patch is process-wide (``requests.adapters.HTTPAdapter.send``), so it also covers
    ``verify_id_token`` running in a worker thread, e.g. under ``asyncio.to_thread``.
    """
    certificates = {signer.kid: signer.certificate_pem for signer in signers}
    cache_control = f"public, max-age={max_age}" if max_age > 0 else "no-cache, no-store"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru(re.compile(r".*"))  # only consulted for requests that match nothing
        mock.add(
            responses.GET,
            ID_TOKEN_CERT_URL,
            json=certificates if status == 200 else {"error": "stubbed failure"},
            status=status,
            # CacheControl only reuses a cached response that carries a Date header.
            headers={"Cache-Control": cache_control, "Date": formatdate(usegmt=True)},
        )
        yield GoogleCertsStub(mock=mock, certificates=certificates)
