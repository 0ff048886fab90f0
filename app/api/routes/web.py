"""The web page's entry points: `/` to the page, its settings, and the offline API docs."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.api.deps import SettingsDep
from app.web.docs import redoc_page, swagger_page
from app.web.page_config import WebConfig, web_config

router = APIRouter(tags=["web page"])

PAGE_PATH = "/app/"


@router.get("/", include_in_schema=False)
async def home() -> RedirectResponse:
    return RedirectResponse(PAGE_PATH)


@router.get(
    "/app/config.json",
    response_model=WebConfig,
    operation_id="getWebConfig",
    summary="The web page's settings: Firebase web config, upload limit, long-poll cap",
)
async def get_web_config(settings: SettingsDep) -> WebConfig:
    """Public, no token: the page reads it before anyone has signed in."""
    return web_config(settings)


@router.get("/docs", include_in_schema=False)
async def swagger_ui(request: Request) -> HTMLResponse:
    return swagger_page(request.app.title, request.app.openapi_url)


@router.get("/redoc", include_in_schema=False)
async def redoc(request: Request) -> HTMLResponse:
    return redoc_page(request.app.title, request.app.openapi_url)
