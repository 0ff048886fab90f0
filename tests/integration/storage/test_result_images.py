"""Every accepted photo is kept in the bucket with what the model saw; its owner gets
short-lived links to both, and nobody else gets anything."""

import io
import uuid
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
from google.protobuf.timestamp_pb2 import Timestamp
from PIL import Image

from contracts.object_keys import original_key, processed_key
from contracts.task_pb2 import TaskMessage
from tests.support.client import auth, poll, upload
from tests.support.imagenet import COFFEE_CLASSES
from tests.support.photos import resized_jpeg, suite_bucket
from tests.support.stacks import publish_raw
from tools.devstack import Stack, wait_until
from tools.devstack.emulator import SignedInUser

LITE0_INPUT = (224, 224)


def _download(url: str) -> httpx.Response:
    return httpx.get(url, timeout=10)


def _tampered(url: str) -> str:
    """The same URL with the last hex digit of its signature changed."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    signature = query["X-Amz-Signature"]
    query["X-Amz-Signature"] = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_result_links_the_original_and_the_model_input(
    stack: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    task_id = upload(stack.base_url, user.id_token, coffee_jpeg).json()["task_id"]
    result = poll(stack.base_url, user.id_token, task_id)
    assert result["status"] == "done"
    assert {p["class_id"] for p in result["predictions"][:3]} & COFFEE_CLASSES

    original = _download(result["images"]["original_url"])
    assert original.status_code == 200
    assert original.content == coffee_jpeg  # unchanged, byte for byte
    processed = _download(result["images"]["processed_url"])
    assert processed.status_code == 200
    picture = Image.open(io.BytesIO(processed.content))
    assert (picture.format, picture.mode, picture.size) == ("PNG", "RGB", LITE0_INPUT)


def test_a_large_photo_travels_by_claim_check_and_is_classified(
    stack: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    photo = resized_jpeg(coffee_jpeg, 3.0)
    assert len(photo) > 256 * 1024  # above the default SNAPMATCH_CLAIM_CHECK_MIN_BYTES
    task_id = upload(stack.base_url, user.id_token, photo).json()["task_id"]
    result = poll(stack.base_url, user.id_token, task_id)
    assert result["status"] == "done", result
    assert {p["class_id"] for p in result["predictions"][:3]} & COFFEE_CLASSES
    assert _download(result["images"]["original_url"]).content == photo
    assert stack.gateway is not None
    queued = [
        line for line in stack.gateway.log().splitlines() if task_id in line and "queued" in line
    ]
    assert queued and '"claim_check": true' in queued[0], queued


def test_a_tampered_link_is_refused_by_the_store(
    stack: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    task_id = upload(stack.base_url, user.id_token, coffee_jpeg).json()["task_id"]
    url = poll(stack.base_url, user.id_token, task_id)["images"]["original_url"]
    assert _download(url).status_code == 200
    assert _download(_tampered(url)).status_code == 403
    # Neither is the object readable without a signature, nor the bucket listable.
    unsigned = urlunsplit(urlsplit(url)._replace(query=""))
    assert _download(unsigned).status_code == 403
    bucket_url = unsigned.rsplit("/photos/", 1)[0]
    assert _download(bucket_url).status_code == 403


def test_another_user_gets_no_links(
    stack: Stack, user: SignedInUser, other_user: SignedInUser, coffee_jpeg: bytes
) -> None:
    task_id = upload(stack.base_url, user.id_token, coffee_jpeg).json()["task_id"]
    assert poll(stack.base_url, user.id_token, task_id)["images"]["original_url"]
    response = httpx.get(f"{stack.base_url}/result/{task_id}", headers=auth(other_user.id_token))
    assert response.status_code == 404
    assert "images" not in response.json()


def test_an_undecodable_photo_keeps_its_original_but_has_no_processed_image(
    stack: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    truncated = coffee_jpeg[: len(coffee_jpeg) // 3]  # the header passes the gateway's check
    task_id = upload(stack.base_url, user.id_token, truncated).json()["task_id"]
    result = poll(stack.base_url, user.id_token, task_id)
    assert result["status"] == "failed"
    assert result["error"]["code"] == "undecodable_image"
    assert _download(result["images"]["original_url"]).content == truncated
    assert result["images"]["processed_url"] is None


def test_a_message_from_an_older_gateway_is_still_processed_and_its_photo_kept(
    stack: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    """Queued before object storage: field 3 inline, no `original_stored`. The worker stores
    the original itself."""
    task_id = str(uuid.uuid4())
    submitted = Timestamp()
    submitted.GetCurrentTime()
    old = TaskMessage(
        task_id=task_id,
        owner_uid=user.uid,
        image=coffee_jpeg,
        content_type="image/jpeg",
        submitted_at=submitted,
    )
    publish_raw(stack.queue, old.SerializeToString())
    # No gateway recorded it as pending: `not_found` until the worker stores its result.
    url = f"{stack.base_url}/result/{task_id}"
    wait_until(
        lambda: httpx.get(url, headers=auth(user.id_token)).status_code == 200,
        timeout=60,
        what="the old message's result",
    )
    result = httpx.get(url, headers=auth(user.id_token)).json()
    assert result["status"] == "done"
    assert {p["class_id"] for p in result["predictions"][:3]} & COFFEE_CLASSES
    assert _download(result["images"]["original_url"]).content == coffee_jpeg
    bucket = suite_bucket()
    assert bucket.size(original_key(user.uid, task_id)) == len(coffee_jpeg)
    assert bucket.size(processed_key(user.uid, task_id)) > 0
