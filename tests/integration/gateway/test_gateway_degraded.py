"""The gateway with a dependency missing: it starts, says what is down, and refuses work
quickly with 503 + Retry-After instead of hanging or accepting what it cannot keep."""

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.client import auth, upload
from tools.devstack import REPO_ROOT, Stack, base_env, delete_queue, free_port
from tools.devstack.emulator import SignedInUser


@pytest.fixture
def gateway_without(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Stack]:
    """A gateway whose RabbitMQ or Redis URL points at a port where nothing listens."""
    nowhere = free_port()
    overrides = {
        "rabbitmq": {"SNAPMATCH_AMQP_URL": f"amqp://snapmatch:snapmatch@127.0.0.1:{nowhere}/x"},
        "redis": {"SNAPMATCH_REDIS_URL": f"redis://127.0.0.1:{nowhere}/0"},
    }[request.param]
    stack = Stack(queue=f"tasks-{uuid.uuid4().hex[:8]}", log_dir=tmp_path, env_overrides=overrides)
    stack.start_gateway(probe="/health")
    yield stack
    stack.stop()
    delete_queue(stack.queue)  # declared when RabbitMQ was reachable


@pytest.mark.parametrize("gateway_without", ["rabbitmq"], indirect=True)
def test_without_rabbitmq(gateway_without: Stack, user: SignedInUser, coffee_jpeg: bytes) -> None:
    ready = httpx.get(f"{gateway_without.base_url}/ready")
    assert ready.status_code == 503
    assert ready.json()["status"] == "unavailable"
    checks = ready.json()["checks"]
    assert (checks["rabbitmq"], checks["redis"]) == ("down: not connected", "ok")
    started = time.monotonic()
    response = upload(gateway_without.base_url, user.id_token, coffee_jpeg)
    assert time.monotonic() - started < 2.0
    assert response.status_code == 503
    assert response.json()["error"] == "broker_unavailable"
    assert response.headers["Retry-After"]


@pytest.mark.parametrize("gateway_without", ["redis"], indirect=True)
def test_without_redis(gateway_without: Stack, user: SignedInUser, coffee_jpeg: bytes) -> None:
    ready = httpx.get(f"{gateway_without.base_url}/ready")
    assert ready.status_code == 503
    checks = ready.json()["checks"]
    assert (checks["rabbitmq"], checks["redis"]) == ("ok", "down: no answer to PING")

    response = upload(gateway_without.base_url, user.id_token, coffee_jpeg)
    assert response.status_code == 503
    assert response.json()["error"] == "result_store_unavailable"
    assert response.headers["Retry-After"]

    poll = httpx.get(
        f"{gateway_without.base_url}/result/{uuid.uuid4()}", headers=auth(user.id_token)
    )
    assert poll.status_code == 503
    assert poll.json()["error"] == "result_store_unavailable"


def _run_gateway_to_exit(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_the_gateway_refuses_to_start_with_emulator_auth_in_production() -> None:
    env = base_env("tasks") | {
        "SNAPMATCH_ENVIRONMENT": "production",
        "SNAPMATCH_AUTH_MODE": "emulator",
        "SNAPMATCH_GATEWAY_PORT": str(free_port()),
    }
    result = _run_gateway_to_exit(env)
    assert result.returncode != 0
    assert "refused when environment=production" in result.stderr


def test_the_gateway_refuses_to_start_in_firebase_mode_without_credentials(tmp_path: Path) -> None:
    env = base_env("tasks") | {
        "SNAPMATCH_ENVIRONMENT": "production",
        "SNAPMATCH_AUTH_MODE": "firebase",
        "SNAPMATCH_FIREBASE_CREDENTIALS": str(tmp_path / "missing.json"),
        "SNAPMATCH_GATEWAY_PORT": str(free_port()),
        "NO_GCE_CHECK": "true",  # no metadata server here: fail fast instead of probing
        "HOME": str(tmp_path),  # no gcloud user credentials either
    }
    env.pop("GOOGLE_APPLICATION_CREDENTIALS", None)
    env.pop("FIREBASE_AUTH_EMULATOR_HOST", None)
    result = _run_gateway_to_exit(env)
    assert result.returncode != 0
    assert "needs a service-account key" in result.stderr
