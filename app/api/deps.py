"""Dependencies shared by the routes: settings, the services in app.state, the caller."""

from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.app_check import (
    APP_CHECK_HEADER,
    AppCheckError,
    AppCheckUnavailableError,
    AppCheckVerifier,
)
from app.auth import AuthenticatedUser, AuthenticationError, TokenVerifier, VerifierUnavailableError
from app.broker import TaskPublisher
from app.catalog.service import Catalog
from app.errors import RETRY_LATER, APIError
from app.idempotency import IdempotencyStore
from app.rate_limit import RateLimitExceeded, RateLimitScope, UserRateLimiter
from app.result_store import ResultStore
from app.result_waiter import ResultNotifier
from config import Settings

_bearer = HTTPBearer(auto_error=False, description="Firebase ID token")
# A header parameter rather than a second security scheme: OpenAPI would read two schemes as
# "either one", while App Check only ever comes on top of the ID token.
_APP_CHECK_TOKEN = Header(
    alias=APP_CHECK_HEADER,
    description="Firebase App Check token; required only when the server enables App Check.",
)


# The accessors below are `async def` on purpose: FastAPI runs a plain `def` dependency in its
# thread pool, and a thread hop per accessor per request cost more than the request's own work.


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _publisher(request: Request) -> TaskPublisher:
    publisher: TaskPublisher = request.app.state.publisher
    return publisher


async def _store(request: Request) -> ResultStore:
    store: ResultStore = request.app.state.store
    return store


async def _verifier(request: Request) -> TokenVerifier:
    verifier: TokenVerifier = request.app.state.verifier
    return verifier


async def _idempotency(request: Request) -> IdempotencyStore:
    idempotency: IdempotencyStore = request.app.state.idempotency
    return idempotency


async def _catalog(request: Request) -> Catalog:
    catalog: Catalog = request.app.state.catalog
    return catalog


async def _notifier(request: Request) -> ResultNotifier:
    notifier: ResultNotifier = request.app.state.notifier
    return notifier


SettingsDep = Annotated[Settings, Depends(_settings)]
PublisherDep = Annotated[TaskPublisher, Depends(_publisher)]
StoreDep = Annotated[ResultStore, Depends(_store)]
VerifierDep = Annotated[TokenVerifier, Depends(_verifier)]
IdempotencyDep = Annotated[IdempotencyStore, Depends(_idempotency)]
CatalogDep = Annotated[Catalog, Depends(_catalog)]
NotifierDep = Annotated[ResultNotifier, Depends(_notifier)]


async def _current_user(
    request: Request,
    verifier: VerifierDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    app_check_token: Annotated[str | None, _APP_CHECK_TOKEN] = None,
) -> AuthenticatedUser:
    if credentials is None:
        raise APIError(
            401,
            "missing_token",
            "send a Firebase ID token as 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    try:
        user = await verifier.verify(credentials.credentials)
    except AuthenticationError as exc:
        raise APIError(
            401,
            exc.code,
            str(exc),
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        ) from exc
    except VerifierUnavailableError as exc:
        raise APIError(503, "auth_unavailable", str(exc), headers=RETRY_LATER) from exc
    app_check: AppCheckVerifier | None = request.app.state.app_check
    if app_check is not None:
        await _verify_app_check(app_check, app_check_token)
    return user


async def _verify_app_check(app_check: AppCheckVerifier, token: str | None) -> None:
    if not token:
        raise APIError(
            401, "missing_app_check_token", f"send a Firebase App Check token as {APP_CHECK_HEADER}"
        )
    try:
        await app_check.verify(token)
    except AppCheckError as exc:
        raise APIError(401, "invalid_app_check_token", str(exc)) from exc
    except AppCheckUnavailableError as exc:
        raise APIError(503, "auth_unavailable", str(exc), headers=RETRY_LATER) from exc


CurrentUser = Annotated[AuthenticatedUser, Depends(_current_user)]


async def _limiter(request: Request) -> UserRateLimiter:
    limiter: UserRateLimiter = request.app.state.rate_limiter
    return limiter


async def _spend(limiter: UserRateLimiter, scope: RateLimitScope, user: AuthenticatedUser) -> None:
    try:
        await limiter.hit(scope, user.uid)
    except RateLimitExceeded as exc:
        raise APIError(
            429,
            "rate_limited",
            f"at most {exc.limit} {scope.value} requests per {exc.window_seconds} s; "
            f"retry in {exc.retry_after_seconds} s",
            headers={"Retry-After": str(exc.retry_after_seconds)},
        ) from exc


async def _uploading_user(
    user: CurrentUser, limiter: Annotated[UserRateLimiter, Depends(_limiter)]
) -> AuthenticatedUser:
    await _spend(limiter, RateLimitScope.UPLOAD, user)
    return user


async def _polling_user(
    user: CurrentUser, limiter: Annotated[UserRateLimiter, Depends(_limiter)]
) -> AuthenticatedUser:
    await _spend(limiter, RateLimitScope.POLL, user)
    return user


# The caller, authenticated and within its upload (or polling) budget.
UploadingUser = Annotated[AuthenticatedUser, Depends(_uploading_user)]
PollingUser = Annotated[AuthenticatedUser, Depends(_polling_user)]
