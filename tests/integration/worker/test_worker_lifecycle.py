"""Worker shutdown and reconnection against the real broker."""

import signal
import subprocess
import time

import httpx

from tests.support.client import poll, upload
from tools.devstack import (
    TEST_VHOST,
    Stack,
    queue_counts,
    wait_until,
)
from tools.devstack.emulator import SignedInUser


def test_sigterm_finishes_held_tasks_then_exits_cleanly(
    private_stack: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    worker = private_stack.start_worker(SNAPMATCH_WORKER_PREFETCH="4")
    task_ids = [
        upload(private_stack.base_url, user.id_token, coffee_jpeg).json()["task_id"]
        for _ in range(6)
    ]
    worker.send(signal.SIGTERM)
    assert worker.popen.wait(30) == 0, worker.log()

    # Whatever it had not taken is still queued; a second worker finishes the rest.
    private_stack.start_worker()
    results = [poll(private_stack.base_url, user.id_token, t) for t in task_ids]
    assert [r["status"] for r in results] == ["done"] * 6
    # No task ran twice: what the first worker had started it finished and acked. (A message
    # still in its prefetch buffer goes back unstarted, which RabbitMQ counts as a delivery.)
    runs = [run["task_id"] for w in private_stack.workers for run in w.model_runs()]
    assert sorted(runs) == sorted(task_ids)


def test_both_sides_reconnect_after_the_broker_drops_them(
    private_stack: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    worker = private_stack.start_worker()
    subprocess.run(
        ["rabbitmqctl", "-q", "close_all_connections", "-p", TEST_VHOST, "test: broker went away"],
        check=True,
        capture_output=True,
    )
    wait_until(lambda: queue_counts(private_stack.queue)[1] == 0, timeout=10, what="disconnect")

    # The gateway answers 503 until its robust connection is back, then accepts again.
    deadline = time.monotonic() + 30
    while True:
        response = upload(private_stack.base_url, user.id_token, coffee_jpeg)
        if response.status_code == 202:
            break
        assert response.status_code == 503, response.text
        assert response.headers["Retry-After"]
        assert time.monotonic() < deadline, "the gateway did not reconnect"
        time.sleep(0.5)

    result = poll(private_stack.base_url, user.id_token, response.json()["task_id"], timeout=60)
    assert result["status"] == "done"
    assert worker.alive
    assert httpx.get(f"{private_stack.base_url}/ready").status_code == 200


def test_several_workers_share_one_queue(
    private_stack: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    workers = [private_stack.start_worker(SNAPMATCH_WORKER_PREFETCH="1") for _ in range(2)]
    task_ids = [
        upload(private_stack.base_url, user.id_token, coffee_jpeg).json()["task_id"]
        for _ in range(12)
    ]
    results = [poll(private_stack.base_url, user.id_token, t) for t in task_ids]
    assert [r["status"] for r in results] == ["done"] * 12
    # Each worker logs "running the model" before each task it runs.
    done_per_worker = [len(w.model_runs()) for w in workers]
    assert sum(done_per_worker) == 12
    assert min(done_per_worker) >= 1, done_per_worker
