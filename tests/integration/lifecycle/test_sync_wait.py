"""POST /predict?wait=: the full result in one request, through the same queue and workers."""

import uuid

import httpx
import pytest

from tests.support.client import auth, stable_result
from tools.devstack import Stack, queue_counts
from tools.devstack.emulator import SignedInUser


def _upload(
    stack: Stack, user: SignedInUser, image: bytes, wait: str, **headers: str
) -> httpx.Response:
    return httpx.post(
        f"{stack.base_url}/predict",
        params={"wait": wait},
        headers=auth(user.id_token) | headers,
        files={"image": ("photo.jpg", image, "image/jpeg")},
        timeout=60,
    )


def test_a_result_ready_in_time_is_the_answer(
    catalog_stack: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    response = _upload(catalog_stack, user, coffee_jpeg, "20")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "done"
    assert body["predictions"][0]["label"] == "espresso"
    assert body["products"], "the synchronous answer carries the product matches"
    assert response.headers["Location"] == f"/result/{body['task_id']}"
    # The same body as GET /result, products and image links included (timings are the
    # stored ones too; the links are signed per read).
    polled = httpx.get(
        f"{catalog_stack.base_url}{response.headers['Location']}",
        headers=auth(user.id_token),
        timeout=10,
    )
    assert polled.status_code == 200
    assert stable_result(polled.json()) == stable_result(body)
    assert body["images"]["processed_url"], "with links to the photo and what the model saw"


def test_an_idempotent_replay_with_wait_answers_the_same_result(
    stack: Stack, user: SignedInUser, cat_jpeg: bytes
) -> None:
    key = str(uuid.uuid4())
    first = _upload(stack, user, cat_jpeg, "20", **{"Idempotency-Key": key})
    replay = _upload(stack, user, cat_jpeg, "20", **{"Idempotency-Key": key})
    assert (first.status_code, replay.status_code) == (200, 200), replay.text
    assert replay.json()["task_id"] == first.json()["task_id"]
    assert replay.json()["predictions"] == first.json()["predictions"]
    assert replay.headers["Idempotent-Replayed"] == "true"


def test_without_a_worker_in_time_the_answer_is_the_usual_202(
    private_stack: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    response = _upload(private_stack, user, coffee_jpeg, "0.5")
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "queued"
    assert response.headers["Location"] == response.json()["result_url"]
    assert queue_counts(private_stack.queue)[0] == 1


@pytest.mark.parametrize("wait", ["-1", "soon", "nan", "31"])
def test_a_bad_wait_is_refused_before_anything_is_queued(
    catalog_stack: Stack, user: SignedInUser, coffee_jpeg: bytes, wait: str
) -> None:
    response = _upload(catalog_stack, user, coffee_jpeg, wait)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "validation_error"
    assert "wait" in response.json()["detail"]
    history = httpx.get(f"{catalog_stack.base_url}/tasks", headers=auth(user.id_token), timeout=10)
    assert history.json()["items"] == []
