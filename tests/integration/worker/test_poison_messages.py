"""Tasks that keep killing or failing workers end `failed` for their owner and wait in the
dead-letter queue for an operator; permanent image errors fail at once without retries."""

import signal
from pathlib import Path

from tests.support.client import poll, upload
from tests.support.stacks import (
    awaiting_failure_record,
    custom_stack,
    dead_lettered,
    publish_raw,
    slow_png,
    take_and_drop,
)
from tools.devstack import Process, Stack, queue_counts, stored_attempts, wait_until
from tools.devstack.emulator import SignedInUser


def _kill_when_running_the_model(worker: Process, attempt: int) -> None:
    wait_until(
        lambda: any(run["attempt"] == attempt for run in worker.model_runs()),
        timeout=60,
        what=f"attempt {attempt} to start",
    )
    worker.send(signal.SIGKILL)
    worker.popen.wait(10)


def test_an_image_that_kills_every_worker_ends_failed_and_dead_lettered(
    tmp_path: Path, user: SignedInUser
) -> None:
    with custom_stack(tmp_path, SNAPMATCH_QUEUE_DELIVERY_LIMIT="2") as stack:
        response = upload(
            stack.base_url, user.id_token, slow_png(), filename="big.png", mime="image/png"
        )
        assert response.status_code == 202, response.text
        task_id = response.json()["task_id"]

        # Three deliveries (limit 2, plus the first); each worker dies in the middle of the model.
        for attempt in (1, 2, 3):
            _kill_when_running_the_model(stack.start_worker(), attempt)

        # No worker is running, yet the owner already has a terminal answer...
        result = poll(stack.base_url, user.id_token, task_id, timeout=10)
        assert result["status"] == "failed"
        assert result["error"]["code"] == "delivery_limit_exceeded"
        # ...and RabbitMQ gave up on the message and parked it for operators.
        wait_until(lambda: dead_lettered(stack.queue) == 1, timeout=30, what="dead-lettering")
        assert queue_counts(stack.queue)[0] == 0

        # A healthy worker acknowledges the dead letter's copy without overwriting the answer.
        stack.start_worker()
        wait_until(lambda: awaiting_failure_record(stack.queue) == 0, timeout=30, what="ack")
        assert poll(stack.base_url, user.id_token, task_id)["status"] == "failed"
        assert dead_lettered(stack.queue) == 1
        assert stored_attempts([task_id]) == [3]


def test_a_task_given_up_before_any_worker_ran_it_still_ends_failed(
    tmp_path: Path, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    """E.g. a task prefetched behind one that crashed the worker, every time."""
    with custom_stack(tmp_path, SNAPMATCH_QUEUE_DELIVERY_LIMIT="1") as stack:
        task_id = upload(stack.base_url, user.id_token, coffee_jpeg).json()["task_id"]
        assert [take_and_drop(stack.queue) for _ in range(2)] == [0, 1]
        wait_until(lambda: dead_lettered(stack.queue) == 1, timeout=30, what="dead-lettering")

        worker = stack.start_worker()
        result = poll(stack.base_url, user.id_token, task_id)
        assert result["status"] == "failed"
        assert result["error"]["code"] == "delivery_limit_exceeded"
        assert result["predictions"] == []
        assert stored_attempts([task_id]) == [2]
        assert worker.model_runs() == []
        assert dead_lettered(stack.queue) == 1


def test_an_unreadable_message_is_dead_lettered_and_the_worker_goes_on(
    private_stack: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    worker = private_stack.start_worker()
    publish_raw(private_stack.queue, b"\xff\x00 not a TaskMessage")
    wait_until(lambda: dead_lettered(private_stack.queue) == 1, timeout=30, what="dead-lettering")

    task_id = upload(private_stack.base_url, user.id_token, coffee_jpeg).json()["task_id"]
    assert poll(private_stack.base_url, user.id_token, task_id)["status"] == "done"
    assert worker.alive


def test_an_undecodable_image_fails_on_its_first_delivery(
    private_stack: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    private_stack.start_worker()
    truncated = coffee_jpeg[: len(coffee_jpeg) // 2]
    task_id = upload(private_stack.base_url, user.id_token, truncated).json()["task_id"]
    result = poll(private_stack.base_url, user.id_token, task_id)
    assert result["error"]["code"] == "undecodable_image"
    # A permanent error: no retry, nothing for the operators' dead-letter queue.
    assert stored_attempts([task_id]) == [1]
    assert dead_lettered(private_stack.queue) == 0
