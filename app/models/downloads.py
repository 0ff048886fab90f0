"""A model file as an HTTP download: strong ETag (its SHA-256), conditional GET, ranges.

Starlette's ``FileResponse`` already serves ``Range`` (one or several ranges, 206) and honours
``If-Range`` against the ``ETag`` it is given; what it lacks is ``If-None-Match`` (answered here
with 304) and JSON bodies for a bad range (it answers 400/416 in plain text): a range is
checked here first with the same parser, so the client gets ``{"error", "detail"}``.

Caching: a versioned URL (``?version=``, the ``download_url`` of ``GET /models``) never changes
its bytes, so clients may keep it for a year (``immutable``); the unversioned URL always gives
the current version, so clients must revalidate it (``no-cache``: a 304 costs no body).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from starlette.responses import (
    FileResponse,
    MalformedRangeHeader,
    RangeNotSatisfiable,
    Response,
)

from app.core.errors import APIError
from contracts.model_registry import ModelEntry

MEDIA_TYPE = "application/octet-stream"
CACHE_VERSIONED = "private, max-age=31536000, immutable"
CACHE_CURRENT = "private, no-cache"


def etag(entry: ModelEntry) -> str:
    return f'"{entry.sha256}"'


def _matches(if_none_match: str, tag: str) -> bool:
    """RFC 9110 weak comparison: ``*`` or any listed tag, with or without ``W/``."""
    candidates = [c.strip() for c in if_none_match.split(",")]
    return any(c == "*" or c.removeprefix("W/") == tag for c in candidates)


def _check_range(headers: Mapping[str, str], tag: str, size: int) -> None:
    http_range = headers.get("range")
    if http_range is None or headers.get("if-range", tag) != tag:
        return  # no range, or If-Range says the client's copy is stale: the whole file
    try:
        FileResponse._parse_range_header(http_range, size)
    except MalformedRangeHeader as exc:
        raise APIError(
            400, "invalid_range", f"cannot serve Range {http_range[:64]!r}: {exc.content}"
        ) from exc
    except RangeNotSatisfiable as exc:
        raise APIError(
            416,
            "range_not_satisfiable",
            f"the file has {exc.max_size} bytes; Range {http_range[:64]!r} lies outside it",
            headers={"Content-Range": f"bytes */{exc.max_size}"},
        ) from exc


def download(
    entry: ModelEntry, path: Path, request_headers: Mapping[str, str], *, versioned: bool
) -> Response:
    tag = etag(entry)
    headers = {
        "ETag": tag,
        "Cache-Control": CACHE_VERSIONED if versioned else CACHE_CURRENT,
        "X-Model-Version": entry.version,
    }
    if_none_match = request_headers.get("if-none-match")
    if if_none_match is not None and _matches(if_none_match, tag):
        return Response(status_code=304, headers=headers)
    _check_range(request_headers, tag, entry.size_bytes)
    return FileResponse(
        path,
        media_type=MEDIA_TYPE,
        filename=f"{entry.name}-{entry.version}.onnx",
        headers=headers,
    )
