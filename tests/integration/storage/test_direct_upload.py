"""Direct upload: the phone PUTs its photo to a presigned URL, then submits it by id. The
gateway checks the stored object before anything is queued."""

import io

import httpx
import pytest
from PIL import Image

from contracts.object_keys import original_key
from tests.support.client import (
    auth,
    create_upload,
    direct_upload,
    poll,
    put_upload,
    submit_upload,
)
from tests.support.imagenet import COFFEE_CLASSES
from tests.support.photos import resized_jpeg, stored_size, suite_bucket
from tools.devstack import Stack
from tools.devstack.emulator import SignedInUser


def test_a_direct_upload_is_classified_with_both_images(
    stack: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    photo = resized_jpeg(coffee_jpeg, 1.2)
    task_id = direct_upload(stack.base_url, user.id_token, photo, "image/jpeg")
    result = poll(stack.base_url, user.id_token, task_id)
    assert result["status"] == "done", result
    assert {p["class_id"] for p in result["predictions"][:3]} & COFFEE_CLASSES
    assert httpx.get(result["images"]["original_url"]).content == photo
    processed = Image.open(io.BytesIO(httpx.get(result["images"]["processed_url"]).content))
    assert processed.size == (224, 224)


def test_the_ticket_names_a_signed_put_of_the_declared_type(
    stack: Stack, user: SignedInUser
) -> None:
    response = create_upload(
        stack.base_url, user.id_token, size_bytes=1234, content_type="image/png"
    )
    assert response.status_code == 201, response.text
    ticket = response.json()
    assert ticket["method"] == "PUT"
    assert ticket["headers"] == {"Content-Type": "image/png"}
    assert "X-Amz-Signature=" in ticket["url"]
    assert ticket["upload_id"] in ticket["url"]
    assert ticket["expires_at"]


def test_submitting_the_same_upload_twice_returns_the_same_task(
    stack: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    ticket = create_upload(stack.base_url, user.id_token, size_bytes=len(coffee_jpeg)).json()
    assert put_upload(ticket, coffee_jpeg).status_code == 200
    first = submit_upload(stack.base_url, user.id_token, ticket["upload_id"])
    again = submit_upload(stack.base_url, user.id_token, ticket["upload_id"])
    assert first.status_code == again.status_code == 202
    assert first.json()["task_id"] == again.json()["task_id"] == ticket["upload_id"]
    assert again.headers["Idempotent-Replayed"] == "true"


def test_a_put_larger_than_declared_is_refused_by_the_store(
    stack: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    ticket = create_upload(stack.base_url, user.id_token, size_bytes=1000).json()
    assert put_upload(ticket, coffee_jpeg).status_code == 403  # the length is signed
    response = submit_upload(stack.base_url, user.id_token, ticket["upload_id"])
    assert response.status_code == 422
    assert response.json()["error"] == "upload_incomplete"


def test_an_object_larger_than_declared_is_not_processed_and_is_deleted(
    stack: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    """A store that does not check the signed length (s3rver ignores content-length-range;
    a signed PUT of more bytes gets through on some stores): the gateway's HEAD catches it."""
    ticket = create_upload(stack.base_url, user.id_token, size_bytes=1000).json()
    key = original_key(user.uid, ticket["upload_id"])
    bucket = suite_bucket()
    bucket.put(key, coffee_jpeg, content_type="image/jpeg")  # more than the 1000 declared
    response = submit_upload(stack.base_url, user.id_token, ticket["upload_id"])
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"
    assert stored_size(key) is None
    # The upload is used up: submitting it again finds nothing.
    assert submit_upload(stack.base_url, user.id_token, ticket["upload_id"]).status_code == 404


def test_an_object_that_is_not_an_image_is_refused_and_deleted(
    stack: Stack, user: SignedInUser
) -> None:
    text = b"%PDF-1.7 not a photo at all " * 10
    ticket = create_upload(stack.base_url, user.id_token, size_bytes=len(text)).json()
    assert put_upload(ticket, text).status_code == 200
    response = submit_upload(stack.base_url, user.id_token, ticket["upload_id"])
    assert response.status_code == 415
    assert response.json()["error"] == "unsupported_media_type"
    assert stored_size(original_key(user.uid, ticket["upload_id"])) is None


def test_another_users_upload_id_is_not_found(
    stack: Stack, user: SignedInUser, other_user: SignedInUser, coffee_jpeg: bytes
) -> None:
    ticket = create_upload(stack.base_url, user.id_token, size_bytes=len(coffee_jpeg)).json()
    assert put_upload(ticket, coffee_jpeg).status_code == 200
    response = submit_upload(stack.base_url, other_user.id_token, ticket["upload_id"])
    assert response.status_code == 404
    assert response.json()["error"] == "upload_not_found"
    # The owner can still submit it.
    assert submit_upload(stack.base_url, user.id_token, ticket["upload_id"]).status_code == 202


@pytest.mark.parametrize("upload_id", ["00000000-0000-4000-8000-000000000000", "not-a-uuid"])
def test_an_unknown_upload_id_is_not_found(
    stack: Stack, user: SignedInUser, upload_id: str
) -> None:
    response = submit_upload(stack.base_url, user.id_token, upload_id)
    assert response.status_code == 404
    assert response.json()["error"] == "upload_not_found"


def test_a_file_and_an_upload_id_together_are_refused(
    stack: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    response = httpx.post(
        f"{stack.base_url}/predict",
        headers=auth(user.id_token),
        files={"image": ("photo.jpg", coffee_jpeg, "image/jpeg")},
        data={"upload_id": "00000000-0000-4000-8000-000000000000"},
    )
    assert response.status_code == 422
    assert response.json()["error"] == "image_and_upload_id"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"content_type": "application/pdf", "size_bytes": 10}, 422, "validation_error"),
        ({"content_type": "image/jpeg", "size_bytes": 0}, 422, "validation_error"),
        (
            {"content_type": "image/jpeg", "size_bytes": 10 * 1024 * 1024 + 1},
            413,
            "payload_too_large",
        ),
    ],
)
def test_an_upload_the_gateway_would_refuse_gets_no_url(
    stack: Stack, user: SignedInUser, body: dict[str, object], status: int, code: str
) -> None:
    response = httpx.post(f"{stack.base_url}/uploads", headers=auth(user.id_token), json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"] == code
