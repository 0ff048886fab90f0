"""One JSON error shape for every 4xx/5xx: ``{"error": <code>, "detail": <message>}``.

Used by every room of the gateway: the middleware answers early refusals with it, the routes
raise :class:`APIError`, and ``app.api.errors`` maps the rooms' own exceptions onto it.
"""

from collections.abc import Mapping
from http import HTTPStatus

from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

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
        *,
        extra: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(status_code=status_code, detail=detail, headers=dict(headers or {}))
        self.code = code
        self.extra = dict(extra or {})  # more fields of the body, e.g. a batch's image index


def code_for_status(status_code: int) -> str:
    """``404`` -> ``"not_found"``: the code of an HTTP error raised without one."""
    try:
        return HTTPStatus(status_code).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


def error_response(exc: StarletteHTTPException) -> JSONResponse:
    """The JSON body and headers for an HTTP error, wherever it is raised."""
    code = exc.code if isinstance(exc, APIError) else code_for_status(exc.status_code)
    extra = exc.extra if isinstance(exc, APIError) else {}
    return JSONResponse(
        {"error": code, "detail": str(exc.detail), **extra},
        status_code=exc.status_code,
        headers=exc.headers,
    )


def internal_error_response() -> JSONResponse:
    """The 500 body: no exception text, no stack trace, no host names."""
    return JSONResponse(
        {"error": "internal_error", "detail": "internal error; it has been logged"},
        status_code=500,
    )
