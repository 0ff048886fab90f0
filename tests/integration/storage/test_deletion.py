"""Deleting a task's images (through `DELETE /result/{id}` and `DELETE /tasks`, and the
function they call) and the retention purge, against the real store."""

import asyncio
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

import httpx

from app.storage.photos import PhotoStore
from config import Settings
from contracts.object_keys import original_key, processed_key
from tests.support.client import auth, poll, upload
from tests.support.photos import stored_size, suite_bucket
from tools.devstack import REPO_ROOT, TEST_SERVICES, Stack
from tools.devstack.emulator import SignedInUser


def _photos() -> PhotoStore:
    return PhotoStore(Settings(object_store_bucket=TEST_SERVICES.bucket))


def test_deleting_a_task_removes_both_images_and_only_its_owners(
    stack: Stack, user: SignedInUser, other_user: SignedInUser, coffee_jpeg: bytes
) -> None:
    task_id = upload(stack.base_url, user.id_token, coffee_jpeg).json()["task_id"]
    images = poll(stack.base_url, user.id_token, task_id)["images"]
    photos = _photos()

    def delete(owner_uid: str) -> int:
        return asyncio.run(photos.delete_task_images(task_id=task_id, owner_uid=owner_uid))

    # Another user naming the same task id finds nothing to delete.
    assert delete(other_user.uid) == 0
    assert stored_size(original_key(user.uid, task_id)) == len(coffee_jpeg)

    assert delete(user.uid) == 2
    assert stored_size(original_key(user.uid, task_id)) is None
    assert stored_size(processed_key(user.uid, task_id)) is None
    assert httpx.get(images["original_url"]).status_code == 404
    # Twice is fine.
    assert delete(user.uid) == 0


def test_delete_result_removes_the_tasks_images(
    stack: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    task_id = upload(stack.base_url, user.id_token, coffee_jpeg).json()["task_id"]
    images = poll(stack.base_url, user.id_token, task_id)["images"]
    assert stored_size(processed_key(user.uid, task_id)) is not None
    response = httpx.delete(
        f"{stack.base_url}/result/{task_id}", headers=auth(user.id_token), timeout=10
    )
    assert response.status_code == 204, response.text
    assert stored_size(original_key(user.uid, task_id)) is None
    assert stored_size(processed_key(user.uid, task_id)) is None
    assert httpx.get(images["processed_url"]).status_code == 404


def test_delete_my_data_removes_every_image_of_the_user_only(
    stack: Stack, user: SignedInUser, other_user: SignedInUser, coffee_jpeg: bytes
) -> None:
    mine = [upload(stack.base_url, user.id_token, coffee_jpeg).json()["task_id"] for _ in range(2)]
    theirs = upload(stack.base_url, other_user.id_token, coffee_jpeg).json()["task_id"]
    for task_id in mine:
        poll(stack.base_url, user.id_token, task_id)
    poll(stack.base_url, other_user.id_token, theirs)
    response = httpx.delete(f"{stack.base_url}/tasks", headers=auth(user.id_token), timeout=30)
    assert response.status_code == 204, response.text
    for task_id in mine:
        assert stored_size(original_key(user.uid, task_id)) is None
        assert stored_size(processed_key(user.uid, task_id)) is None
    assert stored_size(original_key(other_user.uid, theirs)) == len(coffee_jpeg)


def test_the_purge_deletes_only_photos_older_than_the_cutoff() -> None:
    bucket = suite_bucket()
    old = original_key("uid-purge", str(uuid.uuid4()))
    bucket.put(old, b"old photo", content_type="image/jpeg")
    written = datetime.now(UTC)
    # Nothing is older than a day yet: the configured retention keeps it.
    assert bucket.purge("photos/", written_before=written - timedelta(days=1)) == 0
    assert stored_size(old) == len(b"old photo")
    # A cutoff after it was written takes it (and whatever else the suite left behind).
    assert bucket.purge("photos/", written_before=written + timedelta(minutes=1)) >= 1
    assert stored_size(old) is None


def test_the_purge_command_runs_against_the_configured_bucket() -> None:
    keep = original_key("uid-purge", str(uuid.uuid4()))
    suite_bucket().put(keep, b"recent photo", content_type="image/jpeg")
    done = subprocess.run(
        [sys.executable, "-m", "app.storage", "purge"],
        cwd=REPO_ROOT,
        env={"SNAPMATCH_OBJECT_STORE_BUCKET": TEST_SERVICES.bucket, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert f"bucket {TEST_SERVICES.bucket}: 0 objects written before" in done.stdout
    assert stored_size(keep) == len(b"recent photo")


def test_a_listing_longer_than_one_page_is_read_to_the_end() -> None:
    """The purge and the task deletion list page by page (continuation tokens)."""
    bucket = suite_bucket()
    prefix = f"photos/{uuid.uuid4().hex[:16]}/"
    keys = {f"{prefix}{uuid.uuid4()}/original" for _ in range(5)}
    for key in keys:
        bucket.put(key, b"x", content_type="image/jpeg")
    assert {item.key for item in bucket.list(prefix, page_size=2)} == keys
    assert bucket.delete_prefix(prefix) == 5
