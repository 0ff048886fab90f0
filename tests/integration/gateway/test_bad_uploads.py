"""Bad input gets a clear 4xx or a terminal `failed` result, and the worker stays alive."""

import httpx
import pytest

from tests.support.client import auth, poll, upload
from tools.devstack import Stack
from tools.devstack.emulator import SignedInUser


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (b"just some text, not a photo\n", 415, "unsupported_media_type"),
        (b"", 422, "empty_file"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", 422, "corrupt_image"),
    ],
    ids=["text", "empty", "jpeg-header-only"],
)
def test_rejected_at_the_gateway(
    stack: Stack, user: SignedInUser, data: bytes, status: int, code: str
) -> None:
    response = upload(stack.base_url, user.id_token, data)
    assert response.status_code == status, response.text
    assert response.json()["error"] == code
    assert response.json()["detail"]


def test_truncated_jpeg_ends_failed_and_the_worker_goes_on(
    stack: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    truncated = coffee_jpeg[: len(coffee_jpeg) // 2]
    response = upload(stack.base_url, user.id_token, truncated)
    assert response.status_code == 202, response.text
    result = poll(stack.base_url, user.id_token, response.json()["task_id"])
    assert result["status"] == "failed"
    assert result["error"]["code"] == "undecodable_image"
    assert result["error"]["message"]
    assert result["predictions"] == []

    assert all(worker.alive for worker in stack.workers)
    after = upload(stack.base_url, user.id_token, coffee_jpeg).json()["task_id"]
    assert poll(stack.base_url, user.id_token, after)["status"] == "done"


def test_missing_image_field_is_refused(stack: Stack, user: SignedInUser) -> None:
    response = httpx.post(
        f"{stack.base_url}/predict", headers=auth(user.id_token), files={"photo": ("a.jpg", b"x")}
    )
    assert response.status_code == 422
    assert response.json()["error"] == "missing_image"
    assert "image" in response.json()["detail"]


def test_oversize_upload_is_refused(stack: Stack, user: SignedInUser) -> None:
    too_big = b"\xff\xd8\xff" + b"\x00" * (10 * 1024 * 1024)
    response = upload(stack.base_url, user.id_token, too_big)
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"
