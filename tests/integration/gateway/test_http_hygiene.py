"""HTTP hygiene: request ids echoed and logged, security headers, CORS only when configured,
no internals in error bodies."""

import json
import uuid
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from app.http.security_headers import SECURITY_HEADERS
from app.main import create_app
from config import Settings
from tests.support.client import auth, upload
from tools.devstack import AMQP_URL, REDIS_URL, Stack, delete_queue, wait_until
from tools.devstack.emulator import SignedInUser


def _responses(stack: Stack, user: SignedInUser, coffee_jpeg: bytes) -> dict[str, httpx.Response]:
    base = stack.base_url
    return {
        "202": upload(base, user.id_token, coffee_jpeg),
        "401": httpx.get(f"{base}/result/{uuid.uuid4()}", timeout=30),
        "404": httpx.get(f"{base}/result/{uuid.uuid4()}", headers=auth(user.id_token), timeout=30),
        "415": upload(base, user.id_token, b"plain text"),
        "health": httpx.get(f"{base}/health", timeout=30),
    }


def test_every_response_carries_the_security_headers(
    stack: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    for name, response in _responses(stack, user, coffee_jpeg).items():
        for header, value in SECURITY_HEADERS.items():
            assert response.headers.get(header) == value, (name, header)
        assert "server" not in response.headers, name  # no software banner
        assert "access-control-allow-origin" not in response.headers, name


def test_a_request_id_is_echoed_and_logged(stack: Stack, user: SignedInUser) -> None:
    assert stack.gateway is not None
    mine = f"req-{uuid.uuid4().hex}"
    response = httpx.get(
        f"{stack.base_url}/result/{uuid.uuid4()}",
        headers=auth(user.id_token) | {"X-Request-ID": mine},
        timeout=30,
    )
    assert response.headers["X-Request-ID"] == mine
    gateway = stack.gateway
    wait_until(lambda: mine in gateway.log(), timeout=30, what="the request id in the log")
    line = json.loads(next(line for line in gateway.log().splitlines() if mine in line))
    assert (line["logger"], line["event"], line["request_id"]) == ("app.access", "request", mine)
    assert (line["method"], line["status"]) == ("GET", 404)
    assert line["path"].startswith("/result/")


def test_a_request_id_is_generated_when_missing_or_unsafe(stack: Stack) -> None:
    plain = httpx.get(f"{stack.base_url}/health", timeout=30)
    unsafe = httpx.get(
        f"{stack.base_url}/health", headers={"X-Request-ID": "<script>" + "x" * 300}, timeout=30
    )
    for response in (plain, unsafe):
        assert len(response.headers["X-Request-ID"]) == 32
    assert plain.headers["X-Request-ID"] != unsafe.headers["X-Request-ID"]


def test_cors_is_off_by_default(stack: Stack) -> None:
    preflight = httpx.options(
        f"{stack.base_url}/predict",
        headers={
            "Origin": "https://evil.example",
            "Access-Control-Request-Method": "POST",
        },
        timeout=30,
    )
    assert "access-control-allow-origin" not in preflight.headers
    assert preflight.status_code == 405


@pytest.fixture
def cors_client() -> Iterator[TestClient]:
    settings = Settings(
        _env_file=None,
        amqp_url=AMQP_URL,
        redis_url=REDIS_URL,
        task_queue=f"tasks-cors-{uuid.uuid4().hex[:8]}",
        cors_allowed_origins=["https://app.example"],
    )
    with TestClient(create_app(settings)) as client:
        yield client
    delete_queue(settings.task_queue)


def test_cors_allows_only_the_configured_origins(cors_client: TestClient) -> None:
    def preflight(origin: str) -> httpx.Response:
        response: httpx.Response = cors_client.options(
            "/predict",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,idempotency-key",
            },
        )
        return response

    allowed = preflight("https://app.example")
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert "idempotency-key" in allowed.headers["Access-Control-Allow-Headers"].lower()
    refused = preflight("https://evil.example")
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers


def test_errors_name_no_internal_hosts(
    private_stack: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    """With RabbitMQ unreachable the 503 says so, without the broker's address or a trace."""
    assert private_stack.gateway is not None
    private_stack.gateway.stop()
    private_stack.env_overrides["SNAPMATCH_AMQP_URL"] = "amqp://snapmatch:snapmatch@127.0.0.1:1/x"
    private_stack.start_gateway(probe="/health")
    response = upload(private_stack.base_url, user.id_token, coffee_jpeg)
    assert response.status_code == 503, response.text
    assert response.json()["error"] == "broker_unavailable"
    for leak in ("127.0.0.1", "localhost", ":1", "Traceback", "amqp"):
        assert leak not in response.text
