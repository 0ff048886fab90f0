"""Users and ID tokens from the local Firebase Auth Emulator (scripts/auth-emulator.sh).

The emulator's REST API is Identity Toolkit's, served at
``http://HOST:PORT/identitytoolkit.googleapis.com/v1/...``; any API key is accepted. Its tokens
are unsigned (``alg: none``): only firebase-admin in emulator mode (``FIREBASE_AUTH_EMULATOR_HOST``
set) accepts them.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

DEFAULT_HOST = os.environ.get("SNAPMATCH_AUTH_EMULATOR_HOST") or "127.0.0.1:9099"
DEFAULT_PROJECT_ID = os.environ.get("SNAPMATCH_FIREBASE_PROJECT_ID") or "demo-snapmatch"
DEFAULT_PASSWORD = "snapmatch-test"  # noqa: S105 - emulator-only users
TIMEOUT_SECONDS = 10.0
_START_HINT = "start it with `make run` or scripts/auth-emulator.sh start"


class EmulatorError(RuntimeError):
    """The emulator refused a request; ``code`` is its error code, e.g. ``EMAIL_EXISTS``."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class EmulatorUnavailableError(EmulatorError):
    """Nothing answers at the emulator's host:port."""


@dataclass(frozen=True, slots=True)
class SignedInUser:
    uid: str
    id_token: str
    refresh_token: str
    email: str


def unique_email(prefix: str = "user") -> str:
    """A fresh address on the reserved ``.test`` TLD, unique per call."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}@snapmatch.test"


def _base(host: str) -> str:
    return "http://" + host.removeprefix("http://").rstrip("/")


def _request(
    host: str,
    method: str,
    path: str,
    *,
    json: dict[str, Any] | None = None,
    admin: bool = False,
) -> dict[str, Any]:
    url = _base(host) + path
    # "Bearer owner" is the emulator's stand-in for admin (service-account) credentials.
    headers = {"Authorization": "Bearer owner"} if admin else {}
    try:
        response = httpx.request(method, url, json=json, headers=headers, timeout=TIMEOUT_SECONDS)
    except httpx.TransportError as error:
        raise EmulatorUnavailableError(
            f"the Firebase Auth Emulator is not reachable at {_base(host)} ({error!r}); "
            f"{_START_HINT}"
        ) from error
    try:
        body: Any = response.json() if response.content else {}
    except ValueError:
        body = None
    if response.is_error or not isinstance(body, dict):
        code = None
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            code = str(body["error"].get("message", "")).split(" ")[0] or None
        raise EmulatorError(
            f"{method} {url} -> HTTP {response.status_code}: {response.text[:300]}", code=code
        )
    return body


def _identity_toolkit(
    host: str, action: str, payload: dict[str, Any], *, admin: bool = False
) -> dict[str, Any]:
    return _request(
        host,
        "POST",
        f"/identitytoolkit.googleapis.com/v1/accounts:{action}?key=test-api-key",
        json=payload,
        admin=admin,
    )


def _signed_in(body: dict[str, Any], email: str) -> SignedInUser:
    try:
        return SignedInUser(
            uid=str(body["localId"]),
            id_token=str(body["idToken"]),
            refresh_token=str(body["refreshToken"]),
            email=email,
        )
    except KeyError as error:
        raise EmulatorError(f"unexpected emulator answer, missing {error}: {body!r}") from error


def sign_up(
    email: str | None = None, password: str = DEFAULT_PASSWORD, *, host: str = DEFAULT_HOST
) -> SignedInUser:
    """Create an email/password user and return its first ID token.

    ``email=None`` picks :func:`unique_email`. Raises :class:`EmulatorError` with
    ``code == "EMAIL_EXISTS"`` when the address is taken.
    """
    email = email or unique_email()
    body = _identity_toolkit(
        host, "signUp", {"email": email, "password": password, "returnSecureToken": True}
    )
    return _signed_in(body, email)


def sign_in(
    email: str, password: str = DEFAULT_PASSWORD, *, host: str = DEFAULT_HOST
) -> SignedInUser:
    """Sign an existing user in; a new ID token per call (its ``iat`` may equal the last one's)."""
    body = _identity_toolkit(
        host,
        "signInWithPassword",
        {"email": email, "password": password, "returnSecureToken": True},
    )
    return _signed_in(body, email)


def sign_up_or_in(
    email: str, password: str = DEFAULT_PASSWORD, *, host: str = DEFAULT_HOST
) -> SignedInUser:
    """:func:`sign_up`, or :func:`sign_in` when the address already exists."""
    try:
        return sign_up(email, password, host=host)
    except EmulatorError as error:
        if error.code != "EMAIL_EXISTS":
            raise
    return sign_in(email, password, host=host)


def set_disabled(
    uid: str,
    disabled: bool = True,
    *,
    project_id: str = DEFAULT_PROJECT_ID,
    host: str = DEFAULT_HOST,
) -> None:
    """Disable (or re-enable) a user, as the Admin SDK would.

    Its existing tokens still verify unless the caller uses ``check_revoked=True``
    (then firebase-admin raises ``UserDisabledError``).
    """
    _request(
        host,
        "POST",
        f"/identitytoolkit.googleapis.com/v1/projects/{project_id}/accounts:update",
        json={"localId": uid, "disableUser": disabled},
        admin=True,
    )


def clear_accounts(*, project_id: str = DEFAULT_PROJECT_ID, host: str = DEFAULT_HOST) -> None:
    """Delete every user of the project (emulator-only endpoint)."""
    _request(host, "DELETE", f"/emulator/v1/projects/{project_id}/accounts")


def is_running(host: str = DEFAULT_HOST) -> bool:
    """Whether the emulator answers at ``host`` (cheap; for ``pytest.skip`` decisions)."""
    try:
        response = httpx.get(_base(host) + "/", timeout=2.0)
    except httpx.TransportError:
        return False
    return response.status_code == 200 and "authEmulator" in response.text


def revoke_tokens(
    uid: str, *, project_id: str = DEFAULT_PROJECT_ID, host: str = DEFAULT_HOST
) -> None:
    """Revoke the user's refresh tokens, as ``auth.revoke_refresh_tokens`` does: tokens issued
    before the current second fail ``verify_id_token(check_revoked=True)``."""
    _request(
        host,
        "POST",
        f"/identitytoolkit.googleapis.com/v1/projects/{project_id}/accounts:update",
        json={"localId": uid, "validSince": str(int(time.time()))},
        admin=True,
    )
