"""One JSON error shape for every 4xx/5xx: ``{"error": <code>, "detail": <message>}``."""

import logging
from collections.abc import Mapping
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger(__name__)

# Sent with every 503: how long a client should wait before retrying.
RETRY_LATER = {"Retry-After": "5"}


class APIError(StarletteHTTPException):
    """An expected failure with a stable machine-readable ``code`` and a human ``detail``."""

    def __init__(
        self,
        status_code: int,
        code: str,
        detail: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status_code=status_code, detail=detail, headers=dict(headers or {}))
        self.code = code


def _code_for_status(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


def error_response(exc: StarletteHTTPException) -> JSONResponse:
    """The JSON body and headers for an HTTP error, wherever it is raised."""
    code = exc.code if isinstance(exc, APIError) else _code_for_status(exc.status_code)
    return JSONResponse(
        {"error": code, "detail": str(exc.detail)},
        status_code=exc.status_code,
        headers=exc.headers,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return error_response(exc)


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


def internal_error_response() -> JSONResponse:
    """The 500 body: no exception text, no stack trace, no host names."""
    return JSONResponse(
        {"error": "internal_error", "detail": "internal error; it has been logged"},
        status_code=500,
    )


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return internal_error_response()


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected_error)
