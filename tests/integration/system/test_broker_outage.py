"""RabbitMQ unreachable for the suite's vhost: the gateway answers 503 + Retry-After at once
and never a 202 it could not keep, /ready says so, and both sides come back on their own.

The outage is made per vhost (permissions withdrawn, connections closed, so reconnects are
refused until they are restored), which leaves the broker running for everything else.
"""

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from tests.support.client import auth, poll, upload
from tools.devstack import TEST_VHOST, Stack, wait_until
from tools.devstack.emulator import SignedInUser


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


@contextmanager
def broker_outage_now() -> Iterator[None]:
    """Yields while the vhost is cut off; restores it afterwards whatever happened."""
    _rabbitmqctl("clear_permissions", "-p", TEST_VHOST, "snapmatch")
    try:
        _rabbitmqctl("close_all_connections", "-p", TEST_VHOST, "test: broker outage")
        yield
    finally:
        _rabbitmqctl("set_permissions", "-p", TEST_VHOST, "snapmatch", ".*", ".*", ".*")


def _ready(stack: Stack) -> httpx.Response:
    return httpx.get(f"{stack.base_url}/ready", timeout=10)


def test_broker_outage_and_recovery(
    private_stack: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    worker = private_stack.start_worker()
    before = upload(private_stack.base_url, user.id_token, coffee_jpeg).json()["task_id"]
    assert poll(private_stack.base_url, user.id_token, before)["status"] == "done"

    with broker_outage_now():
        wait_until(lambda: _ready(private_stack).status_code == 503, timeout=30, what="/ready 503")
        assert _ready(private_stack).json()["checks"] == {
            "rabbitmq": "down: not connected",
            "redis": "ok",
            "object_store": "ok",
            "mariadb": "ok",
        }
        for _ in range(3):
            # The client's timeout is far below the publish timeout: a hang would fail here.
            response = httpx.post(
                f"{private_stack.base_url}/predict",
                headers=auth(user.id_token),
                files={"image": ("photo.jpg", coffee_jpeg, "image/jpeg")},
                timeout=3,
            )
            assert response.status_code == 503, response.text
            assert response.json()["error"] == "broker_unavailable"
            assert response.headers["Retry-After"]
            time.sleep(1)
        assert worker.alive
        assert "reconnecting" in worker.log()

    wait_until(lambda: _ready(private_stack).status_code == 200, timeout=60, what="/ready 200")
    after = upload(private_stack.base_url, user.id_token, coffee_jpeg)
    assert after.status_code == 202, after.text
    # The worker reconnected too: the task is done without anyone restarting anything.
    assert (
        poll(private_stack.base_url, user.id_token, after.json()["task_id"], timeout=90)["status"]
        == "done"
    )
