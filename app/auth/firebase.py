"""Firebase ID-token verification, kept off the event loop, and remembered while it holds."""

import functools
import os
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
import firebase_admin
import firebase_admin.exceptions
import google.auth.exceptions
import structlog
from firebase_admin import auth

from app.auth.token_cache import VerifiedTokenCache
from config import AuthMode, Settings
from config.firebase import firebase_app, service_account_credential

logger = structlog.stdlib.get_logger(__name__)

EMULATOR_ENV = "FIREBASE_AUTH_EMULATOR_HOST"


@dataclass(frozen=True, slots=True)
class AuthenticatedUser:
    uid: str
    claims: dict[str, Any]


class AuthenticationError(Exception):
    """The token is missing, malformed, forged, expired or otherwise unacceptable."""

    def __init__(self, message: str, *, code: str = "invalid_token") -> None:
        super().__init__(message)
        self.code = code


class VerifierUnavailableError(Exception):
    """The token could not be checked right now (Google's certificates unreachable)."""


class TokenVerifier:
    """Owns a dedicated firebase-admin app and verifies ID tokens with it.

    firebase-admin decides between real RS256 checks and emulator mode from the process
    environment, so this class sets or refuses ``FIREBASE_AUTH_EMULATOR_HOST`` to match the
    configured auth mode: a stray variable must never turn signature checks off.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        _align_emulator_environment(settings)
        # Emulator mode needs no credential; real verification wants one even though it only
        # uses the project id and Google's public certificates.
        credential = (
            None
            if settings.auth_mode is AuthMode.EMULATOR
            else service_account_credential(settings, needed_for="auth_mode=firebase")
        )
        self._app = firebase_app(settings, credential)
        self._verified = VerifiedTokenCache(
            max_size=settings.auth_token_cache_size,
            revocation_window=settings.auth_revocation_cache_seconds
            if settings.check_revoked
            else None,
        )

    @property
    def app(self) -> firebase_admin.App:
        """The firebase-admin app (App Check verification shares it)."""
        return self._app

    async def verify(self, id_token: str) -> AuthenticatedUser:
        """Verify signature, expiry, audience and issuer; with ``check_revoked`` also ask
        Firebase whether the token was revoked or the user disabled (one ``get_user`` call).

        Google's certificates are cached by firebase-admin for their ``Cache-Control`` max-age,
        so only the first verification after start-up (or expiry) fetches them. A token
        verified once is then answered from memory (``app.auth.token_cache``).
        """
        claims = self._verified.claims(id_token)
        if claims is None:
            claims = await self._verify_in_full(id_token)
            self._verified.remember(id_token, claims)
        return AuthenticatedUser(uid=str(claims["uid"]), claims=claims)

    async def _verify_in_full(self, id_token: str) -> dict[str, Any]:
        verify = functools.partial(
            auth.verify_id_token,
            id_token,
            app=self._app,
            check_revoked=self._settings.check_revoked,
            clock_skew_seconds=self._settings.auth_clock_skew_seconds,
        )
        try:
            claims: dict[str, Any] = await anyio.to_thread.run_sync(verify)
        except auth.CertificateFetchError as exc:
            logger.warning("cannot fetch Firebase certificates", error=str(exc))
            raise VerifierUnavailableError("token verification is temporarily unavailable") from exc
        except auth.ExpiredIdTokenError as exc:
            raise AuthenticationError("the ID token has expired; refresh it") from exc
        except auth.RevokedIdTokenError as exc:
            raise AuthenticationError(
                "the ID token has been revoked; sign in again", code="token_revoked"
            ) from exc
        except auth.UserDisabledError as exc:
            raise AuthenticationError(
                "this user account is disabled", code="user_disabled"
            ) from exc
        except (auth.InvalidIdTokenError, ValueError) as exc:
            raise AuthenticationError(f"invalid ID token: {exc}") from exc
        except auth.UserNotFoundError as exc:
            raise AuthenticationError("this user account no longer exists") from exc
        except (
            firebase_admin.exceptions.FirebaseError,
            google.auth.exceptions.GoogleAuthError,
            OSError,
        ) as exc:
            # check_revoked's get_user call failed (network, quota): not the caller's fault.
            logger.warning("cannot check the token's revocation state", error=str(exc))
            raise VerifierUnavailableError("token verification is temporarily unavailable") from exc
        return claims

    def close(self) -> None:
        firebase_admin.delete_app(self._app)


def _align_emulator_environment(settings: Settings) -> None:
    if settings.auth_mode is AuthMode.EMULATOR:
        os.environ[EMULATOR_ENV] = settings.auth_emulator_host
        # Without a key file the SDK would probe the GCE metadata server for ~3 s.
        os.environ.setdefault("NO_GCE_CHECK", "true")
        logger.warning(
            "auth_mode=emulator: Auth Emulator tokens are accepted WITHOUT signature checks; "
            "never use this mode in production",
            emulator=settings.auth_emulator_host,
        )
    elif os.environ.get(EMULATOR_ENV):
        raise RuntimeError(
            f"{EMULATOR_ENV} is set while auth_mode=firebase: firebase-admin would skip "
            "signature checks; unset it"
        )
