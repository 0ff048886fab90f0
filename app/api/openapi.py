"""OpenAPI declarations of the error responses, with an example body per status."""

from typing import Any

from app.api.schemas import ErrorBody

# (error code, detail) shown as the example of each status.
_EXAMPLES: dict[int, tuple[str, str]] = {
    401: ("invalid_token", "the ID token has expired; refresh it"),
    404: ("not_found", "Not Found"),
    413: ("payload_too_large", "the image exceeds 10485760 bytes"),
    415: ("unsupported_media_type", "the file is not an image of a supported type"),
    422: ("corrupt_image", "the image/jpeg header cannot be read"),
    429: ("rate_limited", "at most 30 upload requests per 60 s; retry in 12 s"),
    503: ("broker_unavailable", "the task queue is unavailable; retry later"),
}

_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "integer", "minimum": 1},
    }
}


def error_responses(
    descriptions: dict[int, str], examples: dict[int, tuple[str, str]] | None = None
) -> dict[int | str, dict[str, Any]]:
    """FastAPI ``responses=`` for the given statuses, each with the JSON error body (its
    example from ``examples`` where given, else the status's usual one)."""
    responses: dict[int | str, dict[str, Any]] = {}
    for status, description in descriptions.items():
        code, detail = (examples or {}).get(status) or _EXAMPLES[status]
        response: dict[str, Any] = {
            "model": ErrorBody,
            "description": description,
            "content": {"application/json": {"example": {"error": code, "detail": detail}}},
        }
        if status in (429, 503):
            response["headers"] = _RETRY_AFTER
        responses[status] = response
    return responses
