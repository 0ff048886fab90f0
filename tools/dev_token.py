"""Print a Firebase ID token for a development user of the local Auth Emulator.

    python -m tools.dev_token [--email E] [--password P] [--emulator HOST:PORT]

Signs the user up, or signs in when the email already exists, and prints only the ID token
on stdout, so that ``curl -H "Authorization: Bearer $(make -s token)" ...`` works.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from tools.devstack.emulator import DEFAULT_HOST, EmulatorError, sign_up_or_in

DEFAULT_EMAIL = "dev@snapmatch.test"
DEFAULT_PASSWORD = "snapmatch-dev"  # noqa: S105 - emulator-only development password
WRONG_PASSWORD_CODES = frozenset({"INVALID_PASSWORD", "INVALID_LOGIN_CREDENTIALS"})


def fetch_token(email: str, password: str, emulator: str) -> str:
    """Sign the user up (or in, when the email exists) and return its ID token."""
    try:
        return sign_up_or_in(email, password, host=emulator).id_token
    except EmulatorError as error:
        if error.code in WRONG_PASSWORD_CODES:
            raise EmulatorError(
                f"{email} already exists on the emulator with another password "
                f"({error.code}); pass --password or use another --email",
                code=error.code,
            ) from error
        raise


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.dev_token",
        description="Print a Firebase Auth Emulator ID token for a development user.",
    )
    parser.add_argument("--email", default=DEFAULT_EMAIL, help=f"default {DEFAULT_EMAIL}")
    parser.add_argument(
        "--password",
        default=os.environ.get("SNAPMATCH_DEV_PASSWORD") or DEFAULT_PASSWORD,
        help="default $SNAPMATCH_DEV_PASSWORD or snapmatch-dev (at least 6 characters)",
    )
    parser.add_argument(
        "--emulator",
        default=DEFAULT_HOST,
        help="host:port, default $SNAPMATCH_AUTH_EMULATOR_HOST or 127.0.0.1:9099",
    )
    args = parser.parse_args(argv)
    try:
        token = fetch_token(str(args.email), str(args.password), str(args.emulator))
    except EmulatorError as error:
        print(f"dev_token: {error}", file=sys.stderr)
        return 1
    print(token)
    return 0


if __name__ == "__main__":
    sys.exit(main())
