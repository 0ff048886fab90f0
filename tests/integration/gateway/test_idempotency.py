"""Idempotency-Key on POST /predict: a retried upload never runs the model twice."""

import threading
import uuid

import httpx
import pytest
import redis

from contracts.redis_keys import task_key
from tests.support.client import auth, poll
from tools.devstack import REDIS_URL, Stack, queue_counts, stored_attempts
from tools.devstack.emulator import SignedInUser


def _upload(stack: Stack, user: SignedInUser, image: bytes, key: str) -> httpx.Response:
    return httpx.post(
        f"{stack.base_url}/predict",
        headers=auth(user.id_token) | {"Idempotency-Key": key},
        files={"image": ("photo.jpg", image, "image/jpeg")},
        timeout=30,
    )


def _queued(stack: Stack) -> int:
    return queue_counts(stack.queue)[0]


def test_a_retry_returns_the_same_task_and_queues_nothing(
    private_stack: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    key = str(uuid.uuid4())
    first = _upload(private_stack, user, coffee_jpeg, key)
    retry = _upload(private_stack, user, coffee_jpeg, key)
    assert (first.status_code, retry.status_code) == (202, 202), retry.text
    assert retry.json() == first.json()
    assert retry.headers["Location"] == first.headers["Location"]
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert _queued(private_stack) == 1

    private_stack.start_worker()
    task_id = first.json()["task_id"]
    assert poll(private_stack.base_url, user.id_token, task_id)["status"] == "done"
    assert stored_attempts([task_id]) == [1]
    # A retry after the result is in still returns the same task.
    assert _upload(private_stack, user, coffee_jpeg, key).json()["task_id"] == task_id


def test_the_same_key_with_another_photo_is_refused(
    private_stack: Stack, user: SignedInUser, coffee_jpeg: bytes, cat_jpeg: bytes
) -> None:
    key = str(uuid.uuid4())
    assert _upload(private_stack, user, coffee_jpeg, key).status_code == 202
    response = _upload(private_stack, user, cat_jpeg, key)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "idempotency_key_reused"
    assert _queued(private_stack) == 1


def test_keys_are_scoped_per_user(
    private_stack: Stack, user: SignedInUser, other_user: SignedInUser, coffee_jpeg: bytes
) -> None:
    key = str(uuid.uuid4())
    mine = _upload(private_stack, user, coffee_jpeg, key).json()["task_id"]
    theirs = _upload(private_stack, other_user, coffee_jpeg, key).json()["task_id"]
    assert mine != theirs
    assert _queued(private_stack) == 2


def test_simultaneous_requests_with_one_key_make_one_task(
    private_stack: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    rounds, parallel = 5, 4
    for _ in range(rounds):
        key = str(uuid.uuid4())
        barrier = threading.Barrier(parallel)
        responses: list[httpx.Response] = []

        def send(
            key: str = key,
            barrier: threading.Barrier = barrier,
            responses: list[httpx.Response] = responses,
        ) -> None:
            barrier.wait()  # all requests leave together
            responses.append(_upload(private_stack, user, coffee_jpeg, key))

        threads = [threading.Thread(target=send) for _ in range(parallel)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert [r.status_code for r in responses] == [202] * parallel
        assert len({r.json()["task_id"] for r in responses}) == 1
    assert _queued(private_stack) == rounds


def test_a_key_expires_with_its_result(
    private_stack: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    key = str(uuid.uuid4())
    first = _upload(private_stack, user, coffee_jpeg, key).json()["task_id"]
    # What the result's TTL does after SNAPMATCH_RESULT_TTL_SECONDS.
    redis.Redis.from_url(REDIS_URL).delete(task_key(first))
    again = _upload(private_stack, user, coffee_jpeg, key)
    assert again.status_code == 202
    assert again.json()["task_id"] != first
    assert _queued(private_stack) == 2


@pytest.mark.parametrize(
    "key",
    [b"", b"x" * 256, "caf\u00e9".encode(), b"two words"],
    ids=["empty", "too-long", "non-ascii", "space"],
)
def test_malformed_keys_are_refused(
    private_stack: Stack, user: SignedInUser, coffee_jpeg: bytes, key: bytes
) -> None:
    response = httpx.post(
        f"{private_stack.base_url}/predict",
        headers=[(b"Authorization", f"Bearer {user.id_token}".encode()), (b"Idempotency-Key", key)],
        files={"image": ("photo.jpg", coffee_jpeg, "image/jpeg")},
        timeout=30,
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "validation_error"
    assert _queued(private_stack) == 0
