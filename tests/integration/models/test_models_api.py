"""GET /models, /models/{name}, its labels and its file, through HTTP as a client would; and
uploads that name a model."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import httpx
import pytest

from contracts.model_registry import model_file, read_manifest
from tests.support.client import auth, poll, upload
from tests.support.imagenet import CAT_CLASSES
from tools.devstack import Stack, queue_counts
from tools.devstack.emulator import SignedInUser

SERVED = {
    "efficientnet-lite0",
    "efficientnet-lite0-int8",
    "efficientnet-lite1",
    "efficientnet-lite2",
    "efficientnet-lite2-int8",
}


def _get(stack: Stack, user: SignedInUser, path: str, **headers: str) -> httpx.Response:
    return httpx.get(f"{stack.base_url}{path}", headers=auth(user.id_token) | headers, timeout=30)


def _record(stack: Stack, user: SignedInUser, name: str) -> dict[str, Any]:
    response = _get(stack, user, f"/models/{name}")
    assert response.status_code == 200, response.text
    record: dict[str, Any] = response.json()
    return record


def test_models_need_a_token(stack: Stack) -> None:
    for path in ("/models", "/models/efficientnet-lite0", "/models/efficientnet-lite0/download"):
        response = httpx.get(f"{stack.base_url}{path}", timeout=10)
        assert response.status_code == 401
        assert response.json()["error"] == "missing_token"


def test_the_list_names_the_default_and_describes_each_model(
    stack: Stack, user: SignedInUser, built_model: Path
) -> None:
    response = _get(stack, user, "/models")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["default"] == "efficientnet-lite0"
    records = {record["name"]: record for record in body["models"]}
    assert set(records) == SERVED
    manifest = read_manifest(built_model)
    for name, record in records.items():
        entry = manifest.models[name]
        assert record["version"] == entry.sha256[:12] == entry.version
        assert record["sha256"] == entry.sha256
        assert record["size_bytes"] == model_file(built_model, entry).stat().st_size
        assert record["download_url"] == f"/models/{name}/download?version={entry.version}"
        assert record["labels_url"] == f"/models/{name}/labels"
        assert record["num_classes"] == 1000
        prep = record["preprocessing"]
        size = record["input_size"]
        assert prep["crop"] == {"width": size, "height": size, "offset": prep["crop"]["offset"]}
        assert prep["resize"]["short_side"] == size + 32
        assert prep["input"]["shape"] == ["batch", 3, size, size]
        assert record == _record(stack, user, name)
    assert records["efficientnet-lite2"]["input_size"] == 260
    assert records["efficientnet-lite0-int8"]["precision"] == "int8"


@pytest.mark.parametrize("name", ["resnet-9000", "efficientnet-lite0.onnx", "EFFICIENTNET", "a..b"])
def test_an_unknown_model_is_404_model_not_found(
    stack: Stack, user: SignedInUser, name: str
) -> None:
    for suffix in ("", "/labels", "/download"):
        response = _get(stack, user, f"/models/{name}{suffix}")
        assert response.status_code == 404, (name, suffix, response.text)
        assert response.json()["error"] == "model_not_found"


def test_path_characters_never_reach_the_file_system(stack: Stack, user: SignedInUser) -> None:
    for path in (
        "/models/..%2F..%2Fpyproject.toml/download",
        "/models/%2e%2e/download",
        "/models/efficientnet-lite0%2F..%2F..%2Fmodels.json/download",
    ):
        response = _get(stack, user, path)
        assert response.status_code == 404, (path, response.text)
        assert response.headers["content-type"] == "application/json"


def test_labels_are_the_1000_class_names_in_order(stack: Stack, user: SignedInUser) -> None:
    response = _get(stack, user, "/models/efficientnet-lite2/labels")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model"] == "efficientnet-lite2" and body["label_set"] == "imagenet-1k"
    labels = body["labels"]
    assert len(labels) == len(set(labels)) == 1000
    assert (labels[281], labels[282], labels[657], labels[744]) == (
        "tabby cat",
        "tiger cat",
        "missile",
        "projectile",
    )


def test_a_download_is_the_file_with_a_strong_etag_and_long_caching(
    stack: Stack, user: SignedInUser
) -> None:
    record = _record(stack, user, "efficientnet-lite0-int8")
    response = _get(stack, user, record["download_url"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["etag"] == f'"{record["sha256"]}"'
    assert "immutable" in response.headers["cache-control"]
    assert "max-age=31536000" in response.headers["cache-control"]
    assert response.headers["accept-ranges"] == "bytes"
    assert int(response.headers["content-length"]) == record["size_bytes"]
    assert hashlib.sha256(response.content).hexdigest() == record["sha256"]
    assert "efficientnet-lite0-int8" in response.headers["content-disposition"]

    current = _get(stack, user, "/models/efficientnet-lite0-int8/download")
    assert current.headers["etag"] == response.headers["etag"]
    assert current.headers["cache-control"] == "private, no-cache"


def test_a_cached_copy_revalidates_with_304(stack: Stack, user: SignedInUser) -> None:
    record = _record(stack, user, "efficientnet-lite0")
    etag = f'"{record["sha256"]}"'
    for if_none_match in (etag, f"W/{etag}", f'"stale", {etag}', "*"):
        response = _get(stack, user, record["download_url"], **{"If-None-Match": if_none_match})
        assert response.status_code == 304, if_none_match
        assert response.content == b""
        assert response.headers["etag"] == etag
    stale = _get(stack, user, record["download_url"], **{"If-None-Match": '"0123"'})
    assert stale.status_code == 200 and len(stale.content) == record["size_bytes"]


def test_an_interrupted_download_resumes_with_range(stack: Stack, user: SignedInUser) -> None:
    record = _record(stack, user, "efficientnet-lite2-int8")
    url, size = record["download_url"], record["size_bytes"]
    first = _get(stack, user, url, Range="bytes=0-999999")
    assert first.status_code == 206
    assert first.headers["content-range"] == f"bytes 0-999999/{size}"
    assert len(first.content) == 1_000_000
    rest = _get(stack, user, url, Range="bytes=1000000-", **{"If-Range": first.headers["etag"]})
    assert rest.status_code == 206
    assert rest.headers["content-range"] == f"bytes 1000000-{size - 1}/{size}"
    assert hashlib.sha256(first.content + rest.content).hexdigest() == record["sha256"]
    # A copy of another version: If-Range does not match, so the whole current file comes.
    changed = _get(stack, user, url, Range="bytes=1000000-", **{"If-Range": '"other"'})
    assert changed.status_code == 200 and len(changed.content) == size


def test_bad_ranges_get_json_errors(stack: Stack, user: SignedInUser) -> None:
    record = _record(stack, user, "efficientnet-lite0-int8")
    outside = _get(stack, user, record["download_url"], Range=f"bytes={record['size_bytes']}-")
    assert outside.status_code == 416
    assert outside.json()["error"] == "range_not_satisfiable"
    assert outside.headers["content-range"] == f"bytes */{record['size_bytes']}"
    malformed = _get(stack, user, record["download_url"], Range="pages=1-2")
    assert malformed.status_code == 400
    assert malformed.json()["error"] == "invalid_range"


def test_an_old_version_is_not_served_under_its_versioned_url(
    stack: Stack, user: SignedInUser
) -> None:
    response = _get(stack, user, "/models/efficientnet-lite0/download?version=000000000000")
    assert response.status_code == 404
    body = response.json()
    assert body["error"] == "model_version_not_found"
    assert _record(stack, user, "efficientnet-lite0")["version"] in body["detail"]


def test_head_tells_the_size_without_the_body(stack: Stack, user: SignedInUser) -> None:
    record = _record(stack, user, "efficientnet-lite1")
    response = httpx.head(
        f"{stack.base_url}{record['download_url']}", headers=auth(user.id_token), timeout=10
    )
    assert response.status_code == 200
    assert int(response.headers["content-length"]) == record["size_bytes"]
    assert response.content == b""


def test_an_upload_runs_the_model_it_names(
    stack: Stack, user: SignedInUser, cat_jpeg: bytes
) -> None:
    record = _record(stack, user, "efficientnet-lite2")
    response = upload(stack.base_url, user.id_token, cat_jpeg, model="efficientnet-lite2")
    assert response.status_code == 202, response.text
    result = poll(stack.base_url, user.id_token, response.json()["task_id"])
    assert result["status"] == "done"
    assert result["model"] == {"name": "efficientnet-lite2", "version": record["version"]}
    assert result["predictions"][0]["class_id"] in CAT_CLASSES
    assert result["predictions"][0]["label"] in {"tabby cat", "tiger cat", "Egyptian Mau"}


def test_an_unknown_model_is_refused_at_upload_and_nothing_is_queued(
    private_stack: Stack, user: SignedInUser, cat_jpeg: bytes
) -> None:
    for model in ("resnet-9000", "../../build/registry/models.json", "EFFICIENTNET-LITE0"):
        response = upload(private_stack.base_url, user.id_token, cat_jpeg, model=model)
        assert response.status_code == 422, response.text
        body = response.json()
        assert body["error"] == "unknown_model"
        assert "efficientnet-lite0" in body["detail"]  # it says what may be chosen
    assert queue_counts(private_stack.queue)[0] == 0


def test_the_same_idempotency_key_for_another_model_is_refused(
    stack: Stack, user: SignedInUser, cat_jpeg: bytes
) -> None:
    def send(model: str) -> httpx.Response:
        return httpx.post(
            f"{stack.base_url}/predict",
            headers=auth(user.id_token) | {"Idempotency-Key": f"k-{user.uid}"},
            files={"image": ("cat.jpg", cat_jpeg, "image/jpeg")},
            data={"model": model},
            timeout=30,
        )

    assert send("efficientnet-lite0").status_code == 202
    again = send("efficientnet-lite0")
    assert again.status_code == 202 and again.headers["Idempotent-Replayed"] == "true"
    other = send("efficientnet-lite2")
    assert other.status_code == 422
    assert other.json()["error"] == "idempotency_key_reused"
