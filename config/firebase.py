"""The firebase-admin apps of both processes, and where their credentials come from.

One lookup for every use: the service-account key when installed, else Google application
default credentials, resolved at start-up so that a missing credential stops the process with
a clear message instead of failing every request.
"""

import uuid

import firebase_admin
import google.auth.exceptions
from firebase_admin import credentials

from config.settings import Settings


def service_account_credential(settings: Settings, *, needed_for: str) -> credentials.Base:
    """The key at ``settings.firebase_credentials`` or application default credentials."""
    path = settings.firebase_credentials
    if path is not None and path.is_file():
        return credentials.Certificate(str(path))
    adc = credentials.ApplicationDefault()
    try:
        adc.get_credential()
    except google.auth.exceptions.DefaultCredentialsError as exc:
        raise RuntimeError(
            f"{needed_for} needs a service-account key at {path} "
            "(SNAPMATCH_FIREBASE_CREDENTIALS) or Google application default credentials"
        ) from exc
    return adc


def firebase_app(settings: Settings, credential: credentials.Base | None) -> firebase_admin.App:
    """A firebase-admin app of its own (never the default app), for the configured project."""
    return firebase_admin.initialize_app(
        credential,
        options={
            "projectId": settings.firebase_project_id,
            "httpTimeout": settings.firebase_http_timeout_seconds,
        },
        name=f"snapmatch-{uuid.uuid4().hex}",
    )
