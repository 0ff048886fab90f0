"""The gateway's outer middleware on a bare Starlette app: ids, headers, and a clean 500."""

import logging

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from app.core.metrics import GatewayMetrics
from app.http.request_id import current_request_id, request_id_middleware
from app.http.security_headers import SECURITY_HEADERS, SecurityHeadersMiddleware
from app.http.telemetry import TelemetryMiddleware


async def _echo_id(request: Request) -> PlainTextResponse:
    return PlainTextResponse(current_request_id())


async def _crash(request: Request) -> PlainTextResponse:
    raise RuntimeError("secret detail from db-7.internal:5432")


@pytest.fixture
def client() -> TestClient:
    app = Starlette(
        routes=[Route("/id", _echo_id), Route("/crash", _crash)],
        middleware=[
            request_id_middleware(),
            Middleware(SecurityHeadersMiddleware),
            Middleware(TelemetryMiddleware, metrics=GatewayMetrics()),
        ],
    )
    return TestClient(app, raise_server_exceptions=False)


def test_the_request_id_is_visible_to_the_handler_and_echoed(client: TestClient) -> None:
    response = client.get("/id", headers={"X-Request-ID": "abc-123"})
    assert response.text == "abc-123"
    assert response.headers["X-Request-ID"] == "abc-123"


def test_an_unexpected_error_is_a_bare_json_500(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        response = client.get("/crash", headers={"X-Request-ID": "crash-1"})
    assert response.status_code == 500
    assert response.json() == {
        "error": "internal_error",
        "detail": "internal error; it has been logged",
    }
    assert response.headers["X-Request-ID"] == "crash-1"
    assert response.headers["X-Content-Type-Options"] == SECURITY_HEADERS["X-Content-Type-Options"]
    assert "db-7.internal" not in response.text
    assert "secret detail" in caplog.text  # the log keeps what the client must not see
