"""Swagger UI and ReDoc pages whose scripts come from this gateway, not from a CDN.

The bundles are copied from npm (``swagger-ui-dist``, ``redoc``) into the page build under
``vendor/``. FastAPI writes the pages; each gets a Content-Security-Policy that allows its one
inline script by hash.
"""

import re
from functools import lru_cache

from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse

from app.web.policy import docs_policy

VENDOR = "/app/vendor"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def _with_policy(page: HTMLResponse) -> tuple[bytes, str]:
    body = bytes(page.body)
    return body, docs_policy(_INLINE_SCRIPT.findall(body.decode()))


@lru_cache
def _swagger(title: str, openapi_url: str) -> tuple[bytes, str]:
    return _with_policy(
        get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title} - Swagger UI",
            swagger_js_url=f"{VENDOR}/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url=f"{VENDOR}/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/app/favicon.svg",
            oauth2_redirect_url=None,
            # The online validator badge would send the schema's URL to swagger.io.
            swagger_ui_parameters={"validatorUrl": None},
        )
    )


@lru_cache
def _redoc(title: str, openapi_url: str) -> tuple[bytes, str]:
    return _with_policy(
        get_redoc_html(
            openapi_url=openapi_url,
            title=f"{title} - ReDoc",
            redoc_js_url=f"{VENDOR}/redoc/redoc.standalone.js",
            redoc_favicon_url="/app/favicon.svg",
            with_google_fonts=False,
        )
    )


def _response(page: tuple[bytes, str]) -> HTMLResponse:
    body, policy = page
    return HTMLResponse(body, headers={"Content-Security-Policy": policy})


def swagger_page(title: str, openapi_url: str) -> HTMLResponse:
    return _response(_swagger(title, openapi_url))


def redoc_page(title: str, openapi_url: str) -> HTMLResponse:
    return _response(_redoc(title, openapi_url))
