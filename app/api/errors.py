"""How every failure becomes the JSON error body (``app.core.errors``).

Routes and services raise their own exceptions (a broker that refuses a task, a token that does
not verify); the table below turns each into its status, code and message, in one place, so no
route writes the same 503 twice.
"""

from collections.abc import Callable
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from app.auth.app_check import AppCheckError, AppCheckUnavailableError
from app.auth.firebase import AuthenticationError, VerifierUnavailableError
from app.auth.rate_limit import RateLimitExceeded
from app.catalog.database import CatalogUnavailableError
from app.catalog.matching import MatchQueryError
from app.core.errors import RETRY_LATER, APIError, error_response
from app.models.registry import (
    ModelNotFoundError,
    ModelUnavailableError,
    ModelVersionGoneError,
    UnknownModelError,
)
from app.tasks.idempotency import IdempotencyKeyReusedError
from app.tasks.publisher import BrokerUnavailableError, QueueFullError
from app.tasks.store import ResultStoreUnavailableError
from config.object_store import ObjectStoreUnavailableError

logger = structlog.stdlib.get_logger(__name__)


def _unavailable(code: str, detail: str) -> Callable[[Exception], APIError]:
    """A 503 with Retry-After. The exception's own message may name internal hosts: it goes
    to the log only."""

    def translate(exc: Exception) -> APIError:
        logger.warning("dependency unavailable", error=code, reason=str(exc))
        return APIError(503, code, detail, RETRY_LATER)

    return translate


def _invalid_token(exc: AuthenticationError) -> APIError:
    headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
    return APIError(401, exc.code, str(exc), headers)


def _rate_limited(exc: RateLimitExceeded) -> APIError:
    return APIError(
        429,
        "rate_limited",
        f"at most {exc.limit} {exc.scope.value} requests per {exc.window_seconds} s; "
        f"retry in {exc.retry_after_seconds} s",
        headers={"Retry-After": str(exc.retry_after_seconds)},
    )


# Keyed by class; a subclass (QueueFullError) finds its own entry before its base class.'s.
_TRANSLATIONS: dict[type[Exception], Callable[[Any], APIError]] = {
    AuthenticationError: _invalid_token,
    VerifierUnavailableError: lambda exc: APIError(503, "auth_unavailable", str(exc), RETRY_LATER),
    AppCheckError: lambda exc: APIError(401, "invalid_app_check_token", str(exc)),
    AppCheckUnavailableError: lambda exc: APIError(503, "auth_unavailable", str(exc), RETRY_LATER),
    RateLimitExceeded: _rate_limited,
    IdempotencyKeyReusedError: lambda exc: APIError(
        422, "idempotency_key_reused", "this Idempotency-Key was already used for a different photo"
    ),
    ResultStoreUnavailableError: _unavailable(
        "result_store_unavailable", "the result store is unavailable; retry later"
    ),
    BrokerUnavailableError: _unavailable(
        "broker_unavailable", "the task queue is unavailable; retry later"
    ),
    QueueFullError: _unavailable("queue_full", "the task queue is full; retry later"),
    ObjectStoreUnavailableError: _unavailable(
        "object_store_unavailable", "the photo store is unavailable; retry later"
    ),
    MatchQueryError: lambda exc: APIError(422, exc.code, exc.detail),
    CatalogUnavailableError: _unavailable(
        "catalog_unavailable", "the catalog is unavailable; retry later"
    ),
    ModelNotFoundError: lambda exc: APIError(404, "model_not_found", str(exc)),
    ModelVersionGoneError: lambda exc: APIError(404, "model_version_not_found", str(exc)),
    UnknownModelError: lambda exc: APIError(422, "unknown_model", str(exc)),
    ModelUnavailableError: lambda exc: APIError(
        503, "model_unavailable", f"{exc}; retry later", RETRY_LATER
    ),
}


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 405:
        # Starlette names only the first route on the path; GET and DELETE /result/{id} are two.
        exc.headers = {**(exc.headers or {}), "Allow": ", ".join(_allowed_methods(request))}
    return error_response(exc)


def _allowed_methods(request: Request) -> list[str]:
    methods: set[str] = set()
    for route in request.app.routes:
        if isinstance(route, APIRoute) and route.matches(request.scope)[0] is not Match.NONE:
            methods |= route.methods or set()
    return sorted(methods)


async def _translated_error(request: Request, exc: Exception) -> JSONResponse:
    for cls in type(exc).__mro__:
        translate = _TRANSLATIONS.get(cls)
        if translate is not None:
            return error_response(translate(exc))
    raise exc  # unreachable: only registered classes reach this handler


def _location(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc if part not in ("body", "path", "query"))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": _location(tuple(err["loc"])), "message": err["msg"], "type": err["type"]}
        for err in exc.errors()
    ]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "invalid request"
    return JSONResponse(
        {"error": "validation_error", "detail": detail, "errors": errors}, status_code=422
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    for exception_class in _TRANSLATIONS:
        app.add_exception_handler(exception_class, _translated_error)
