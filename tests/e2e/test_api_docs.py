"""The API docs render with no network: Swagger UI and ReDoc come from the gateway itself."""

from playwright.sync_api import expect

from tests.e2e.conftest import WatchedPage
from tools.devstack import Stack


def test_swagger_ui_renders_every_operation_offline(
    catalog_stack: Stack, watched: WatchedPage
) -> None:
    page = watched.page
    page.goto(f"{catalog_stack.base_url}/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("snapmatch")
    expect(page.locator(".opblock-summary-path", has_text="/products/matches")).to_be_visible()
    watched.shoot("api-docs")


def test_redoc_renders_offline(catalog_stack: Stack, watched: WatchedPage) -> None:
    page = watched.page
    page.goto(f"{catalog_stack.base_url}/redoc")
    expect(page.locator("h1", has_text="snapmatch")).to_be_visible()
    expect(page.locator("h2", has_text="Products for predicted classes")).to_be_visible()
