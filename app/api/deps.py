"""Dependencies shared by the routes: settings, the services in app.state, the caller."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.auth import AuthenticatedUser, AuthenticationError, TokenVerifier, VerifierUnavailableError
from app.broker import TaskPublisher
from app.errors import RETRY_LATER, APIError
from app.result_store import ResultStore
from app.result_waiter import ResultNotifier
from config import Settings

_bearer = HTTPBearer(auto_error=False, description="Firebase ID token")


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _publisher(request: Request) -> TaskPublisher:
    publisher: TaskPublisher = request.app.state.publisher
    return publisher


def _store(request: Request) -> ResultStore:
    store: ResultStore = request.app.state.store
    return store


def _verifier(request: Request) -> TokenVerifier:
    verifier: TokenVerifier = request.app.state.verifier
    return verifier


def _notifier(request: Request) -> ResultNotifier:
    notifier: ResultNotifier = request.app.state.notifier
    return notifier


SettingsDep = Annotated[Settings, Depends(_settings)]
PublisherDep = Annotated[TaskPublisher, Depends(_publisher)]
StoreDep = Annotated[ResultStore, Depends(_store)]
VerifierDep = Annotated[TokenVerifier, Depends(_verifier)]
NotifierDep = Annotated[ResultNotifier, Depends(_notifier)]


async def _current_user(
    verifier: VerifierDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> AuthenticatedUser:
    if credentials is None:
        raise APIError(
            401,
            "missing_token",
            "send a Firebase ID token as 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    try:
        return await verifier.verify(credentials.credentials)
    except AuthenticationError as exc:
        raise APIError(
            401,
            "invalid_token",
            str(exc),
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        ) from exc
    except VerifierUnavailableError as exc:
        raise APIError(503, "auth_unavailable", str(exc), headers=RETRY_LATER) from exc


CurrentUser = Annotated[AuthenticatedUser, Depends(_current_user)]
