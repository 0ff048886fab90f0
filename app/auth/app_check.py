"""Firebase App Check: proof that a request comes from the genuine app, not a script.

Optional (``SNAPMATCH_APP_CHECK_ENABLED``). firebase-admin verifies the ``X-Firebase-AppCheck``
token's RS256 signature against App Check's JWKS, which it fetches once and keeps for six hours.
"""

import functools
from typing import Any

import anyio.to_thread
import firebase_admin
import jwt
import structlog
from firebase_admin import app_check

logger = structlog.stdlib.get_logger(__name__)

APP_CHECK_HEADER = "X-Firebase-AppCheck"


class AppCheckError(Exception):
    """The App Check token is missing, malformed, forged, expired or for another project."""


class AppCheckUnavailableError(Exception):
    """App Check's public keys could not be fetched right now."""


class AppCheckVerifier:
    def __init__(self, app: firebase_admin.App) -> None:
        self._app = app

    async def verify(self, token: str) -> str:
        """Return the verified token's app id (``sub``)."""
        verify = functools.partial(app_check.verify_token, token, app=self._app)
        try:
            claims: dict[str, Any] = await anyio.to_thread.run_sync(verify)
        except jwt.PyJWKClientConnectionError as exc:
            logger.warning("cannot fetch the App Check keys", error=str(exc))
            raise AppCheckUnavailableError("App Check verification is unavailable") from exc
        except (ValueError, jwt.PyJWKClientError) as exc:
            # PyJWKClientError without a connection problem: no key matches the token's kid.
            raise AppCheckError(f"invalid App Check token: {exc}") from exc
        return str(claims["app_id"])
