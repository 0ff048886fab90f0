"""The photo store down: uploads are refused with 503 (nothing accepted and lost), /ready says
so, and a worker that cannot reach it gives the task a clear failure at the delivery limit."""

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.client import auth, create_upload, poll, upload
from tools.devstack import Stack, delete_queue, free_port, queue_counts, wait_until
from tools.devstack.emulator import SignedInUser

# Fail fast: one attempt, one second.
_UNREACHABLE_STORE = {
    "SNAPMATCH_OBJECT_STORE_MAX_ATTEMPTS": "1",
    "SNAPMATCH_OBJECT_STORE_TIMEOUT_SECONDS": "1",
}


def _closed_endpoint() -> str:
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def gateway_without_store(tmp_path: Path) -> Iterator[Stack]:
    """A gateway whose object store endpoint is a closed port (no worker)."""
    stack = Stack(
        queue=f"tasks-{uuid.uuid4().hex[:8]}",
        log_dir=tmp_path,
        env_overrides={"SNAPMATCH_OBJECT_STORE_ENDPOINT_URL": _closed_endpoint()}
        | _UNREACHABLE_STORE,
    )
    stack.start_gateway(probe="/health")
    yield stack
    stack.stop()
    delete_queue(stack.queue)


def test_ready_names_the_store_when_it_is_down(gateway_without_store: Stack) -> None:
    response = httpx.get(f"{gateway_without_store.base_url}/ready")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["object_store"].startswith("down")
    assert checks["rabbitmq"] == checks["redis"] == "ok"


def test_an_upload_is_refused_with_503_and_nothing_is_queued(
    gateway_without_store: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    response = upload(gateway_without_store.base_url, user.id_token, coffee_jpeg)
    assert response.status_code == 503
    assert response.json()["error"] == "object_store_unavailable"
    assert int(response.headers["Retry-After"]) >= 1
    assert queue_counts(gateway_without_store.queue)[0] == 0


def test_no_upload_url_is_handed_out_while_the_store_is_down(
    gateway_without_store: Stack, user: SignedInUser
) -> None:
    response = create_upload(gateway_without_store.base_url, user.id_token, size_bytes=1000)
    assert response.status_code == 503
    assert response.json()["error"] == "object_store_unavailable"
    assert "Retry-After" in response.headers


def test_a_worker_without_the_store_fails_the_task_at_the_delivery_limit(
    tmp_path: Path, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    stack = Stack(
        queue=f"tasks-{uuid.uuid4().hex[:8]}",
        log_dir=tmp_path,
        env_overrides={"SNAPMATCH_QUEUE_DELIVERY_LIMIT": "1"},
    )
    try:
        stack.start_gateway()
        stack.start_worker(
            SNAPMATCH_OBJECT_STORE_ENDPOINT_URL=_closed_endpoint(),
            SNAPMATCH_OBJECT_STORE_MAX_ATTEMPTS="1",
            SNAPMATCH_OBJECT_STORE_TIMEOUT_SECONDS="1",
        )
        response = upload(stack.base_url, user.id_token, coffee_jpeg)
        assert response.status_code == 202, response.text
        task_id = response.json()["task_id"]
        assert poll(stack.base_url, user.id_token, task_id)["status"] == "failed"

        # The last delivery records `delivery_limit_exceeded` before it runs (in case it dies
        # too), then replaces it with what happened.
        def result() -> dict[str, Any]:
            url = f"{stack.base_url}/result/{task_id}"
            body: dict[str, Any] = httpx.get(url, headers=auth(user.id_token)).json()
            return body

        wait_until(
            lambda: result()["error"]["code"] == "object_store_unavailable",
            timeout=30,
            what="the object_store_unavailable failure",
        )
        # The first delivery went back to the queue; the second (the last) recorded the failure.
        assert "returning it to the queue" in stack.workers[0].log()
        # The original the gateway stored is still there for its owner.
        images = result()["images"]
        assert httpx.get(images["original_url"]).status_code == 200
        assert images["processed_url"] is None
    finally:
        stack.stop()
        delete_queue(stack.queue)
