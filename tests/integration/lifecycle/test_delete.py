"""DELETE /result/{id}: a queued task never runs; a finished one is gone at once."""

import uuid

import httpx
import redis

from contracts.redis_keys import events_key, task_key
from tests.support.client import auth, poll, upload
from tools.devstack import REDIS_URL, Stack, queue_counts, wait_until
from tools.devstack.emulator import SignedInUser


def _delete(stack: Stack, user: SignedInUser, task_id: str) -> httpx.Response:
    return httpx.delete(
        f"{stack.base_url}/result/{task_id}", headers=auth(user.id_token), timeout=10
    )


def _get(stack: Stack, user: SignedInUser, path: str) -> httpx.Response:
    return httpx.get(f"{stack.base_url}{path}", headers=auth(user.id_token), timeout=10)


def test_a_queued_task_is_skipped_by_the_worker_and_keeps_no_result(
    private_stack: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    deleted = upload(private_stack.base_url, user.id_token, coffee_jpeg).json()["task_id"]
    kept = upload(private_stack.base_url, user.id_token, coffee_jpeg).json()["task_id"]
    response = _delete(private_stack, user, deleted)
    assert response.status_code == 204, response.text
    assert response.content == b""
    gone = _get(private_stack, user, f"/result/{deleted}")
    assert (gone.status_code, gone.json()["status"]) == (404, "not_found")

    worker = private_stack.start_worker()
    assert poll(private_stack.base_url, user.id_token, kept)["status"] == "done"
    wait_until(lambda: queue_counts(private_stack.queue) == (0, 1), timeout=30, what="acks")
    assert "task deleted by its owner; skipping it" in worker.log()
    assert worker.log().count("running the model") == 1  # only the kept task ran
    store = redis.Redis.from_url(REDIS_URL)
    assert store.get(task_key(deleted)) is None
    events: list[tuple[bytes, dict[bytes, bytes]]] = store.xrange(  # type: ignore[assignment]
        events_key(private_stack.queue)
    )
    recorded = [fields[b"record"] for _, fields in events]
    assert len(recorded) == 1 and kept.encode() in recorded[0]  # the kept task's event only
    assert _get(private_stack, user, f"/result/{deleted}").status_code == 404


def test_a_finished_task_is_deleted_with_its_history_row(
    catalog_stack: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    task_id = upload(catalog_stack.base_url, user.id_token, coffee_jpeg).json()["task_id"]
    poll(catalog_stack.base_url, user.id_token, task_id)
    wait_until(
        lambda: _get(catalog_stack, user, f"/tasks/{task_id}").json().get("status") == "done",
        timeout=30,
        what="the history row",
    )
    assert _delete(catalog_stack, user, task_id).status_code == 204
    assert _get(catalog_stack, user, f"/result/{task_id}").json()["status"] == "not_found"
    assert _get(catalog_stack, user, f"/tasks/{task_id}").status_code == 404
    assert _get(catalog_stack, user, "/tasks").json()["items"] == []
    again = _delete(catalog_stack, user, task_id)
    assert again.status_code == 404
    assert again.json()["error"] == "not_found"


def test_someone_elses_task_is_not_found_and_stays(
    catalog_stack: Stack, user: SignedInUser, other_user: SignedInUser, coffee_jpeg: bytes
) -> None:
    task_id = upload(catalog_stack.base_url, user.id_token, coffee_jpeg).json()["task_id"]
    poll(catalog_stack.base_url, user.id_token, task_id)
    response = _delete(catalog_stack, other_user, task_id)
    assert response.status_code == 404, response.text
    assert response.json()["error"] == "not_found"
    assert _get(catalog_stack, user, f"/result/{task_id}").status_code == 200
    unknown = _delete(catalog_stack, user, str(uuid.uuid4()))
    assert unknown.status_code == 404
    malformed = _delete(catalog_stack, user, "not-a-uuid")
    assert malformed.status_code == 422
    assert malformed.json()["error"] == "validation_error"
