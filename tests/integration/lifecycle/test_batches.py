"""POST /predict/batch and GET /batches/{id}: up to 10 photos, each a task, answered together."""

import uuid
from pathlib import Path

import httpx

from tests.support.client import auth, stable_result, upload_batch
from tests.support.stacks import custom_stack
from tools.devstack import Stack
from tools.devstack.emulator import SignedInUser


def _batch_result(stack: Stack, user: SignedInUser, batch_id: str) -> httpx.Response:
    return httpx.get(
        f"{stack.base_url}/batches/{batch_id}",
        params={"wait": "30"},
        headers=auth(user.id_token),
        timeout=60,
    )


def _history(stack: Stack, user: SignedInUser) -> list[dict[str, object]]:
    response = httpx.get(f"{stack.base_url}/tasks", headers=auth(user.id_token), timeout=10)
    assert response.status_code == 200, response.text
    items: list[dict[str, object]] = response.json()["items"]
    return items


def test_a_batch_is_answered_in_upload_order(
    catalog_stack: Stack, user: SignedInUser, coffee_jpeg: bytes, cat_jpeg: bytes
) -> None:
    images = [coffee_jpeg, cat_jpeg, coffee_jpeg]
    accepted = upload_batch(catalog_stack.base_url, user.id_token, images)
    assert accepted.status_code == 202, accepted.text
    body = accepted.json()
    assert body["status"] == "queued"
    assert len(body["tasks"]) == 3
    assert accepted.headers["Location"] == f"/batches/{body['batch_id']}"
    assert [t["result_url"] for t in body["tasks"]] == [
        f"/result/{t['task_id']}" for t in body["tasks"]
    ]

    response = _batch_result(catalog_stack, user, body["batch_id"])
    assert response.status_code == 200, response.text
    done = response.json()
    assert done["status"] == "done"
    assert [r["task_id"] for r in done["results"]] == [t["task_id"] for t in body["tasks"]]
    labels = [r["predictions"][0]["label"] for r in done["results"]]
    assert labels[0] == labels[2] == "espresso"
    assert labels[1] != "espresso"
    # Each result is the one GET /result serves.
    for task, result in zip(body["tasks"], done["results"], strict=True):
        single = httpx.get(
            f"{catalog_stack.base_url}{task['result_url']}", headers=auth(user.id_token)
        )
        assert stable_result(single.json()) == stable_result(result)


def test_one_bad_image_refuses_the_whole_batch_naming_its_index(
    catalog_stack: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    cases = [
        ([coffee_jpeg, b"GIF89a not supported"], 415, "unsupported_media_type", 1),
        ([coffee_jpeg, coffee_jpeg, b""], 422, "empty_file", 2),
        ([coffee_jpeg[:200], coffee_jpeg], 422, "corrupt_image", 0),
    ]
    for images, status, code, index in cases:
        response = upload_batch(catalog_stack.base_url, user.id_token, images)
        assert response.status_code == status, response.text
        assert response.json()["error"] == code
        assert response.json()["index"] == index
        assert f"images[{index}]" in response.json()["detail"]
    assert _history(catalog_stack, user) == [], "nothing was queued"


def test_eleven_images_are_too_many_and_a_form_without_images_is_refused(
    catalog_stack: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    eleven = upload_batch(catalog_stack.base_url, user.id_token, [coffee_jpeg] * 11)
    assert eleven.status_code == 413, eleven.text
    assert eleven.json()["error"] == "too_many_images"
    none = httpx.post(
        f"{catalog_stack.base_url}/predict/batch",
        headers=auth(user.id_token),
        files={"image": ("photo.jpg", coffee_jpeg, "image/jpeg")},
        timeout=30,
    )
    assert none.status_code == 422, none.text
    assert none.json()["error"] == "unexpected_field"
    empty = httpx.post(
        f"{catalog_stack.base_url}/predict/batch",
        headers=auth(user.id_token),
        data={"model": "efficientnet-lite0"},
        timeout=30,
    )
    assert empty.status_code == 422, empty.text
    assert empty.json()["error"] == "missing_image"
    unknown = upload_batch(
        catalog_stack.base_url, user.id_token, [coffee_jpeg], data={"model": "resnet-9000"}
    )
    assert unknown.status_code == 422, unknown.text
    assert unknown.json()["error"] == "unknown_model"
    assert _history(catalog_stack, user) == []


def test_an_idempotent_batch_retry_returns_the_same_batch(
    catalog_stack: Stack,
    user: SignedInUser,
    other_user: SignedInUser,
    coffee_jpeg: bytes,
    cat_jpeg: bytes,
) -> None:
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = upload_batch(
        catalog_stack.base_url, user.id_token, [coffee_jpeg, cat_jpeg], headers=key
    )
    retry = upload_batch(
        catalog_stack.base_url, user.id_token, [coffee_jpeg, cat_jpeg], headers=key
    )
    assert (first.status_code, retry.status_code) == (202, 202), retry.text
    assert retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    reused = upload_batch(
        catalog_stack.base_url, user.id_token, [cat_jpeg, coffee_jpeg], headers=key
    )
    assert reused.status_code == 422, reused.text
    assert reused.json()["error"] == "idempotency_key_reused"
    assert _batch_result(catalog_stack, user, first.json()["batch_id"]).status_code == 200
    assert len(_history(catalog_stack, user)) == 2
    # Someone else's batch does not exist for them.
    foreign = _batch_result(catalog_stack, other_user, first.json()["batch_id"])
    assert foreign.status_code == 404
    assert foreign.json()["status"] == "not_found"


def test_a_batch_counts_as_one_upload_per_image(
    built_model: Path, tmp_path: Path, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    with custom_stack(tmp_path, SNAPMATCH_UPLOAD_RATE_LIMIT="4") as stack:
        over = upload_batch(stack.base_url, user.id_token, [coffee_jpeg] * 5)
        assert over.status_code == 429, over.text
        assert over.json()["error"] == "rate_limited"
        within = upload_batch(stack.base_url, user.id_token, [coffee_jpeg] * 3)
        assert within.status_code == 202, within.text
        # 1 (the refused batch's first) + 3: the budget of 4 is spent.
        spent = upload_batch(stack.base_url, user.id_token, [coffee_jpeg])
        assert spent.status_code == 429, spent.text
