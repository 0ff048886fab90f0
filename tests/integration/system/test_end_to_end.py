"""Through HTTP exactly as a Flutter app: sign up on the emulator, upload, poll, read labels."""

import io

import httpx
from PIL import Image

from tests.support.client import auth, poll, upload
from tests.support.imagenet import CAT_CLASSES, COFFEE_CLASSES
from tools.devstack import Stack
from tools.devstack.emulator import SignedInUser


def test_photo_of_an_espresso_is_recognised(
    stack: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    response = upload(stack.base_url, user.id_token, coffee_jpeg)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "queued"
    assert body["result_url"] == f"/result/{body['task_id']}"
    assert response.headers["Location"] == body["result_url"]

    result = poll(stack.base_url, user.id_token, body["task_id"])
    assert result["status"] == "done"
    assert result["task_id"] == body["task_id"]
    labels = result["predictions"]
    assert len(labels) == 5
    assert {p["class_id"] for p in labels[:3]} & COFFEE_CLASSES, labels
    assert labels[0]["label"]
    confidences = [p["confidence"] for p in labels]
    assert confidences == sorted(confidences, reverse=True)
    assert 0.0 < sum(confidences) <= 1.0 + 1e-6
    assert result["model"]["name"] == "efficientnet-lite0"
    assert len(result["model"]["version"]) == 12
    timings = result["timings"]
    assert timings["inference_ms"] > 0 and timings["preprocess_ms"] > 0
    assert timings["total_ms"] >= timings["queued_ms"]
    assert result["error"] is None
    assert "owner_uid" not in result


def test_photo_of_a_cat_is_recognised_as_a_png(
    stack: Stack, user: SignedInUser, cat_jpeg: bytes
) -> None:
    png = io.BytesIO()
    Image.open(io.BytesIO(cat_jpeg)).save(png, format="PNG")
    # The filename and declared type lie; the bytes decide.
    response = upload(
        stack.base_url, user.id_token, png.getvalue(), filename="x.txt", mime="text/plain"
    )
    assert response.status_code == 202, response.text
    result = poll(stack.base_url, user.id_token, response.json()["task_id"])
    assert result["predictions"][0]["class_id"] in CAT_CLASSES, result["predictions"]


def test_result_is_pending_right_after_upload_then_done(
    stack: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    task_id = upload(stack.base_url, user.id_token, coffee_jpeg).json()["task_id"]
    first = httpx.get(f"{stack.base_url}/result/{task_id}", headers=auth(user.id_token))
    if first.status_code == 404:  # the worker may already be done on a fast machine
        assert first.json() == {
            "task_id": task_id,
            "status": "pending",
            "detail": "the task is still in progress",
        }
        assert first.headers["Retry-After"] == "1"
    else:
        assert first.status_code == 200
    assert poll(stack.base_url, user.id_token, task_id)["status"] == "done"
