"""Push through the real worker: an upload carrying an FCM registration token. Here FCM is
unreachable (no route to Google from the test machine), which is exactly the failure that
must never touch the result: the task still ends ``done`` and the miss is logged and counted.
The request firebase-admin sends to FCM is checked in tests/unit/test_push.py."""

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.client import auth, poll
from tests.support.metrics import scrape, value
from tools.devstack import Stack, delete_queue, wait_until
from tools.devstack.emulator import SignedInUser


def _service_account_key(path: Path) -> Path:
    """A well-formed service-account file with a fresh key Google has never heard of."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "demo-snapmatch",
                "private_key_id": uuid.uuid4().hex,
                "private_key": pem,
                "client_email": "push@demo-snapmatch.iam.gserviceaccount.com",
                "client_id": "1",
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        )
    )
    return path


@pytest.fixture
def push_stack(built_model: Path, tmp_path: Path) -> Iterator[Stack]:
    key = _service_account_key(tmp_path / "service-account.json")
    stack = Stack(
        queue=f"tasks-{uuid.uuid4().hex[:8]}",
        log_dir=tmp_path,
        env_overrides={
            "SNAPMATCH_PUSH_NOTIFICATIONS": "true",
            "SNAPMATCH_FIREBASE_CREDENTIALS": str(key),
            "SNAPMATCH_FIREBASE_HTTP_TIMEOUT_SECONDS": "5",
        },
    )
    stack.start_gateway()
    stack.start_worker()
    yield stack
    stack.stop()
    delete_queue(stack.queue)


def test_a_failed_push_does_not_affect_the_result(
    push_stack: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    response = httpx.post(
        f"{push_stack.base_url}/predict",
        headers=auth(user.id_token),
        files={"image": ("cup.jpg", coffee_jpeg, "image/jpeg")},
        data={"fcm_token": "fcm-registration-token-of-this-device"},
        timeout=30,
    )
    assert response.status_code == 202, response.text
    task_id = response.json()["task_id"]
    assert poll(push_stack.base_url, user.id_token, task_id)["status"] == "done"

    worker = push_stack.workers[0]
    metrics_url = f"http://127.0.0.1:{worker.metrics_port}/metrics"

    def push_failure_counted() -> bool:
        samples = scrape(metrics_url)
        return value(samples, "snapmatch_worker_push_notifications_total", outcome="failed") == 1

    wait_until(push_failure_counted, timeout=120, what="the failed push to be counted")
    failures = [
        json.loads(line) for line in worker.log().splitlines() if "push notification failed" in line
    ]
    assert [line["task_id"] for line in failures] == [task_id]
    assert "fcm-registration-token-of-this-device" not in worker.log()
    assert worker.alive


def test_an_implausibly_long_fcm_token_is_413(
    stack: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    response = httpx.post(
        f"{stack.base_url}/predict",
        headers=auth(user.id_token),
        files={"image": ("cup.jpg", coffee_jpeg, "image/jpeg")},
        data={"fcm_token": "x" * 5000},
        timeout=30,
    )
    # Like every text field of the form, it is bounded by SNAPMATCH_MAX_FORM_FIELD_BYTES.
    assert response.status_code == 413, response.text
    assert response.json()["error"] == "form_too_large"
