"""Who may read a result, and what GET /result says before there is one."""

import uuid

import httpx

from tests.support.client import auth, poll, upload
from tools.devstack import Stack
from tools.devstack.emulator import SignedInUser


def test_another_users_task_is_indistinguishable_from_an_unknown_one(
    stack: Stack, user: SignedInUser, other_user: SignedInUser, coffee_jpeg: bytes
) -> None:
    task_id = upload(stack.base_url, user.id_token, coffee_jpeg).json()["task_id"]
    poll(stack.base_url, user.id_token, task_id)

    stolen = httpx.get(f"{stack.base_url}/result/{task_id}", headers=auth(other_user.id_token))
    unknown_id = str(uuid.uuid4())
    unknown = httpx.get(f"{stack.base_url}/result/{unknown_id}", headers=auth(other_user.id_token))
    assert stolen.status_code == unknown.status_code == 404
    assert stolen.json()["status"] == unknown.json()["status"] == "not_found"
    assert stolen.json()["detail"] == unknown.json()["detail"]
    assert "Retry-After" not in stolen.headers


def test_unknown_task_is_not_found(stack: Stack, user: SignedInUser) -> None:
    task_id = str(uuid.uuid4())
    response = httpx.get(f"{stack.base_url}/result/{task_id}", headers=auth(user.id_token))
    assert response.status_code == 404
    assert response.json() == {
        "task_id": task_id,
        "status": "not_found",
        "detail": "no such task, or its result has expired",
    }


def test_malformed_task_id_is_a_validation_error(stack: Stack, user: SignedInUser) -> None:
    response = httpx.get(f"{stack.base_url}/result/not-a-uuid", headers=auth(user.id_token))
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "validation_error"
    assert "task_id" in body["detail"]


def test_a_queued_task_is_pending_with_retry_after(
    private_stack: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    # No worker runs on this queue, so the task stays queued.
    task_id = upload(private_stack.base_url, user.id_token, coffee_jpeg).json()["task_id"]
    response = httpx.get(f"{private_stack.base_url}/result/{task_id}", headers=auth(user.id_token))
    assert response.status_code == 404
    assert response.json()["status"] == "pending"
    assert response.headers["Retry-After"] == "1"
    assert response.json()["task_id"] == task_id


def test_every_api_endpoint_but_probes_requires_a_token(stack: Stack) -> None:
    for method, path in [("POST", "/predict"), ("GET", f"/result/{uuid.uuid4()}")]:
        response = httpx.request(method, f"{stack.base_url}{path}")
        assert response.status_code == 401, path
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.json()["error"] == "missing_token"
    garbage = httpx.get(f"{stack.base_url}/result/{uuid.uuid4()}", headers=auth("not-a-jwt"))
    assert garbage.status_code == 401
    assert garbage.json()["error"] == "invalid_token"
    assert garbage.headers["WWW-Authenticate"].startswith("Bearer")


def test_probes_need_no_token(stack: Stack) -> None:
    assert httpx.get(f"{stack.base_url}/health").json() == {"status": "ok"}
    ready = httpx.get(f"{stack.base_url}/ready")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "checks": {"rabbitmq": "ok", "redis": "ok", "object_store": "ok", "mariadb": "ok"},
    }
    assert httpx.get(f"{stack.base_url}/openapi.json").status_code == 200
