"""GET /result/{id}?wait=N through HTTP with the real gateway and worker: the request is held
while the task is pending and answered as soon as the worker stores the result."""

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.client import auth, upload
from tests.support.imagenet import COFFEE_CLASSES
from tools.devstack import Stack, delete_queue
from tools.devstack.emulator import SignedInUser


@pytest.fixture
def capped_stack(built_model: Path, tmp_path: Path) -> Iterator[Stack]:
    """A gateway without workers whose long-polls are capped at one second."""
    stack = Stack(
        queue=f"tasks-{uuid.uuid4().hex[:8]}",
        log_dir=tmp_path,
        env_overrides={"SNAPMATCH_RESULT_WAIT_MAX_SECONDS": "1"},
    )
    stack.start_gateway()
    yield stack
    stack.stop()
    delete_queue(stack.queue)


def _accepted(stack: Stack, user: SignedInUser, jpeg: bytes) -> str:
    response = upload(stack.base_url, user.id_token, jpeg)
    assert response.status_code == 202, response.text
    task_id: str = response.json()["task_id"]
    return task_id


def test_a_long_poll_sent_before_any_worker_exists_returns_the_result(
    private_stack: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    task_id = _accepted(private_stack, user, coffee_jpeg)
    sent = threading.Event()
    answers: list[httpx.Response] = []

    def long_poll() -> None:
        with httpx.Client(event_hooks={"request": [lambda _: sent.set()]}, timeout=90) as client:
            answers.append(
                client.get(
                    f"{private_stack.base_url}/result/{task_id}",
                    params={"wait": 60},
                    headers=auth(user.id_token),
                )
            )

    poller = threading.Thread(target=long_poll)
    poller.start()
    assert sent.wait(30)
    private_stack.start_worker()  # only now can the task be answered
    poller.join(90)

    assert not poller.is_alive()
    assert len(answers) == 1
    assert answers[0].status_code == 200, answers[0].text
    result = answers[0].json()
    assert result["status"] == "done"
    assert {p["class_id"] for p in result["predictions"][:3]} & COFFEE_CLASSES


def test_a_long_poll_returns_a_result_that_already_exists(
    stack: Stack, user: SignedInUser, cat_jpeg: bytes
) -> None:
    task_id = _accepted(stack, user, cat_jpeg)
    first = httpx.get(
        f"{stack.base_url}/result/{task_id}",
        params={"wait": 60},
        headers=auth(user.id_token),
        timeout=90,
    )
    assert first.status_code == 200, first.text
    again = httpx.get(
        f"{stack.base_url}/result/{task_id}",
        params={"wait": 60},
        headers=auth(user.id_token),
        timeout=90,
    )
    assert again.status_code == 200
    # The same result; its image links are signed afresh on each read, for the same objects.
    first_body, again_body = first.json(), again.json()
    first_links, again_links = first_body.pop("images"), again_body.pop("images")
    assert again_body == first_body
    for link in ("original_url", "processed_url"):
        assert again_links[link].split("?")[0] == first_links[link].split("?")[0]


def test_an_expired_wait_answers_pending_with_retry_after(
    capped_stack: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    task_id = _accepted(capped_stack, user, coffee_jpeg)
    # Asks for an hour; the server holds it for at most its one-second cap.
    response = httpx.get(
        f"{capped_stack.base_url}/result/{task_id}",
        params={"wait": 3600},
        headers=auth(user.id_token),
        timeout=60,
    )
    assert response.status_code == 404
    assert response.json()["status"] == "pending"
    assert response.headers["Retry-After"] == "1"


def test_waiting_on_someone_elses_task_reveals_nothing(
    capped_stack: Stack, user: SignedInUser, other_user: SignedInUser, coffee_jpeg: bytes
) -> None:
    task_id = _accepted(capped_stack, user, coffee_jpeg)
    response = httpx.get(
        f"{capped_stack.base_url}/result/{task_id}",
        params={"wait": 30},
        headers=auth(other_user.id_token),
        timeout=60,
    )
    assert response.status_code == 404
    assert response.json()["status"] == "not_found"


@pytest.mark.parametrize("wait", ["-1", "soon", "nan", "inf"])
def test_an_invalid_wait_is_a_422_with_the_error_body(
    stack: Stack, user: SignedInUser, wait: str
) -> None:
    response = httpx.get(
        f"{stack.base_url}/result/{uuid.uuid4()}",
        params={"wait": wait},
        headers=auth(user.id_token),
        timeout=30,
    )
    assert response.status_code == 422
    body = response.json()
    assert body["error"] and body["detail"]
