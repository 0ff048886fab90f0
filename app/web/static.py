"""The built page (``make web``, Vite's output in ``SNAPMATCH_WEB_DIR``) as static files.

Vite names every bundle after its content (``assets/index-3f9a….js``), so those are cached for
a year; everything else (index.html, the docs' vendor scripts) is revalidated on each load with
its ETag, which costs a 304 and no bytes.
"""

import mimetypes
import os
from pathlib import Path

import structlog
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.errors import APIError, error_response
from app.web.policy import page_policy
from config import Settings

logger = structlog.stdlib.get_logger(__name__)

# The on-device model's runtime is compiled as it streams in, which browsers allow only for
# this type; say it here rather than trust every system's mime.types to know .wasm.
mimetypes.add_type("application/wasm", ".wasm")

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
_HASHED_DIR = "assets"


class PageFiles(StaticFiles):
    """StaticFiles plus the page's Content-Security-Policy and cache headers."""

    def __init__(self, directory: Path, policy: str) -> None:
        super().__init__(directory=directory, html=True)
        self._policy = policy

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        hashed = Path(full_path).parent.name == _HASHED_DIR
        response.headers["Cache-Control"] = IMMUTABLE if hashed else REVALIDATE
        response.headers["Content-Security-Policy"] = self._policy
        return response


class PageNotBuilt:
    """Answers every request under /app/ with a 404 that says how to build the page."""

    def __init__(self, directory: Path) -> None:
        self._error = APIError(
            404,
            "web_app_not_built",
            f"the web page is not built in {directory}: run `make web` "
            "(or point SNAPMATCH_WEB_DIR at a build)",
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await error_response(self._error)(scope, receive, send)


def page_files(settings: Settings) -> ASGIApp:
    directory = settings.web_dir
    if not (directory / "index.html").is_file():
        logger.warning(
            "web page not built; /app/ and the API docs will not load", path=str(directory)
        )
        return PageNotBuilt(directory)
    return PageFiles(directory, page_policy(settings))
