"""Per-user rate limits held in Redis: two gateway replicas share one budget per user."""

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.client import auth, upload
from tools.devstack import Stack, delete_queue
from tools.devstack.emulator import sign_up, unique_email

UPLOADS_PER_WINDOW = 3
POLLS_PER_WINDOW = 5


@pytest.fixture(scope="module")
def replicas(built_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Stack]]:
    """Two gateway processes with small budgets, sharing Redis (no workers needed)."""
    limits = {
        "SNAPMATCH_UPLOAD_RATE_LIMIT": str(UPLOADS_PER_WINDOW),
        "SNAPMATCH_POLL_RATE_LIMIT": str(POLLS_PER_WINDOW),
        # Long enough that the window cannot roll over during the test.
        "SNAPMATCH_RATE_LIMIT_WINDOW_SECONDS": "3600",
    }
    stacks = [
        Stack(
            queue=f"tasks-{uuid.uuid4().hex[:8]}",
            log_dir=tmp_path_factory.mktemp("replica"),
            env_overrides=limits,
        )
        for _ in range(2)
    ]
    for stack in stacks:
        stack.start_gateway()
    yield stacks
    for stack in stacks:
        stack.stop()
        delete_queue(stack.queue)


def _assert_rate_limited(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["error"] == "rate_limited"
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 3600


def test_uploads_are_limited_per_user_across_replicas(
    replicas: list[Stack], coffee_jpeg: bytes
) -> None:
    user = sign_up(unique_email())
    statuses = [
        upload(replicas[i % 2].base_url, user.id_token, coffee_jpeg).status_code
        for i in range(UPLOADS_PER_WINDOW)
    ]
    assert statuses == [202] * UPLOADS_PER_WINDOW
    for replica in replicas:  # the budget is spent on both replicas alike
        _assert_rate_limited(upload(replica.base_url, user.id_token, coffee_jpeg))

    # Another user's budget is untouched.
    other = sign_up(unique_email("other"))
    assert upload(replicas[0].base_url, other.id_token, coffee_jpeg).status_code == 202


def test_polls_are_limited_per_user_across_replicas(replicas: list[Stack]) -> None:
    user = sign_up(unique_email())

    def poll(replica: Stack) -> httpx.Response:
        return httpx.get(
            f"{replica.base_url}/result/{uuid.uuid4()}", headers=auth(user.id_token), timeout=30
        )

    statuses = [poll(replicas[i % 2]).status_code for i in range(POLLS_PER_WINDOW)]
    assert statuses == [404] * POLLS_PER_WINDOW
    for replica in replicas:
        _assert_rate_limited(poll(replica))
