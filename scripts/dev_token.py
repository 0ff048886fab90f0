#!/usr/bin/env python3
"""Print a Firebase ID token for a development user of the local Auth Emulator.

    python scripts/dev_token.py [--email E] [--password P] [--emulator HOST:PORT]

Signs the user up, or signs in when the email already exists, and prints only the ID token
on stdout, so that ``curl -H "Authorization: Bearer $(make -s token)" ...`` works. Standard
library only: it runs with any Python 3.11, inside the virtualenv or not.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from typing import Any

DEFAULT_EMAIL = "dev@snapmatch.test"
DEFAULT_PASSWORD = "snapmatch-dev"  # noqa: S105 - emulator-only development password
DEFAULT_EMULATOR = "127.0.0.1:9099"
TIMEOUT_SECONDS = 10.0
START_HINT = "start it with `make run` or scripts/auth-emulator.sh start"


class TokenError(Exception):
    """A failure worth one line on stderr."""


def _post(emulator: str, method: str, body: dict[str, Any]) -> dict[str, Any]:
    url = f"http://{emulator}/identitytoolkit.googleapis.com/v1/accounts:{method}?key=dev"
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            payload: dict[str, Any] = json.load(response)
            return payload
    except urllib.error.HTTPError as error:
        raw = error.read().decode(errors="replace")
        try:
            message = str(json.loads(raw)["error"]["message"])
        except (ValueError, KeyError, TypeError):
            message = f"HTTP {error.code}: {raw[:200]}"
        raise TokenError(message) from error
    except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
        reason = getattr(error, "reason", error)
        raise TokenError(
            f"the Firebase Auth Emulator is not reachable at http://{emulator} ({reason}); "
            f"{START_HINT}"
        ) from error


def fetch_token(email: str, password: str, emulator: str) -> str:
    """Sign the user up (or in, when the email exists) and return its ID token."""
    body = {"email": email, "password": password, "returnSecureToken": True}
    try:
        result = _post(emulator, "signUp", body)
    except TokenError as error:
        if not str(error).startswith("EMAIL_EXISTS"):
            raise
        try:
            result = _post(emulator, "signInWithPassword", body)
        except TokenError as sign_in_error:
            if str(sign_in_error).startswith(("INVALID_PASSWORD", "INVALID_LOGIN_CREDENTIALS")):
                raise TokenError(
                    f"{email} already exists on the emulator with another password "
                    f"({sign_in_error}); pass --password or use another --email"
                ) from sign_in_error
            raise
    token = result.get("idToken")
    if not isinstance(token, str) or not token:
        raise TokenError(f"the emulator answered without an idToken: {result!r}")
    return token


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Print a Firebase Auth Emulator ID token for a development user."
    )
    parser.add_argument("--email", default=DEFAULT_EMAIL, help=f"default {DEFAULT_EMAIL}")
    parser.add_argument(
        "--password",
        default=os.environ.get("SNAPMATCH_DEV_PASSWORD") or DEFAULT_PASSWORD,
        help="default $SNAPMATCH_DEV_PASSWORD or snapmatch-dev (at least 6 characters)",
    )
    parser.add_argument(
        "--emulator",
        default=os.environ.get("SNAPMATCH_AUTH_EMULATOR_HOST") or DEFAULT_EMULATOR,
        help=f"host:port, default $SNAPMATCH_AUTH_EMULATOR_HOST or {DEFAULT_EMULATOR}",
    )
    args = parser.parse_args(argv)
    emulator = str(args.emulator).removeprefix("http://").rstrip("/")
    try:
        token = fetch_token(str(args.email), str(args.password), emulator)
    except TokenError as error:
        print(f"dev_token: {error}", file=sys.stderr)
        return 1
    print(token)
    return 0


if __name__ == "__main__":
    sys.exit(main())
