"""What a route can ask for: the services built at start-up, and the authenticated caller.

Each service is one ``Annotated`` alias; routes never read ``app.state``.
"""

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.auth.app_check import APP_CHECK_HEADER
from app.auth.firebase import AuthenticatedUser
from app.auth.rate_limit import RateLimitScope, UserRateLimiter
from app.catalog.service import Catalog
from app.core.errors import APIError
from app.core.metrics import GatewayMetrics
from app.history.service import TaskHistory
from app.models.registry import ModelRegistry
from app.services import Services
from app.storage.photos import PhotoStore
from app.storage.uploads import DirectUploads
from app.tasks.erase import TaskEraser
from app.tasks.publisher import TaskPublisher
from app.tasks.store import TaskStore
from app.tasks.submit import TaskSubmitter
from app.tasks.waiter import ResultNotifier
from config import Settings

_T = TypeVar("_T")

_bearer = HTTPBearer(auto_error=False, description="Firebase ID token")
# A header parameter rather than a second security scheme: OpenAPI would read two schemes as
# "either one", while App Check only ever comes on top of the ID token.
_APP_CHECK_TOKEN = Header(
    alias=APP_CHECK_HEADER,
    description="Firebase App Check token; required only when the server enables App Check.",
)


# `async def` on purpose: FastAPI runs a plain `def` dependency in its thread pool, and a thread
# hop per dependency per request cost more than the request's own work.
async def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(_services)]


def _service(pick: Callable[[Services], _T]) -> Any:
    """``Depends`` on one service; FastAPI resolves ``_services`` once per request."""

    async def dependency(services: ServicesDep) -> _T:
        return pick(services)

    return Depends(dependency)


SettingsDep = Annotated[Settings, _service(lambda s: s.settings)]
MetricsDep = Annotated[GatewayMetrics, _service(lambda s: s.metrics)]
PublisherDep = Annotated[TaskPublisher, _service(lambda s: s.publisher)]
StoreDep = Annotated[TaskStore, _service(lambda s: s.store)]
SubmitterDep = Annotated[TaskSubmitter, _service(lambda s: s.submitter)]
NotifierDep = Annotated[ResultNotifier, _service(lambda s: s.notifier)]
CatalogDep = Annotated[Catalog, _service(lambda s: s.catalog)]
ModelsDep = Annotated[ModelRegistry, _service(lambda s: s.models)]
PhotosDep = Annotated[PhotoStore, _service(lambda s: s.photos)]
UploadsDep = Annotated[DirectUploads, _service(lambda s: s.uploads)]
HistoryDep = Annotated[TaskHistory, _service(lambda s: s.history)]
EraserDep = Annotated[TaskEraser, _service(lambda s: s.eraser)]
RateLimiterDep = Annotated[UserRateLimiter, _service(lambda s: s.rate_limiter)]


async def _current_user(
    services: ServicesDep,
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
    user = await services.verifier.verify(credentials.credentials)
    if services.app_check is not None:
        if not app_check_token:
            raise APIError(
                401,
                "missing_app_check_token",
                f"send a Firebase App Check token as {APP_CHECK_HEADER}",
            )
        await services.app_check.verify(app_check_token)
    return user


CurrentUser = Annotated[AuthenticatedUser, Depends(_current_user)]


def _within_budget(scope: RateLimitScope) -> Any:
    """The caller, after spending one request of their ``scope`` budget (429 when spent)."""

    async def dependency(user: CurrentUser, services: ServicesDep) -> AuthenticatedUser:
        await services.rate_limiter.hit(scope, user.uid)
        return user

    return Depends(dependency)


UploadingUser = Annotated[AuthenticatedUser, _within_budget(RateLimitScope.UPLOAD)]
PollingUser = Annotated[AuthenticatedUser, _within_budget(RateLimitScope.POLL)]
