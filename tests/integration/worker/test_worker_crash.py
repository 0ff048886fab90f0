"""A worker SIGKILLed while it holds tasks loses none of them: another worker completes them."""

import signal

from tests.support.client import poll, upload
from tests.support.imagenet import COFFEE_CLASSES
from tools.devstack import Stack, queue_counts, stored_attempts, wait_until
from tools.devstack.emulator import SignedInUser


def test_tasks_held_by_a_killed_worker_are_completed_by_another(
    private_stack: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    doomed = private_stack.start_worker(SNAPMATCH_WORKER_PREFETCH="3")
    # Frozen, it still receives its prefetch from the broker but can neither process nor ack.
    doomed.send(signal.SIGSTOP)
    task_ids = [
        upload(private_stack.base_url, user.id_token, coffee_jpeg).json()["task_id"]
        for _ in range(5)
    ]
    # 3 are held (unacked) by the frozen worker, 2 wait in the queue.
    wait_until(lambda: queue_counts(private_stack.queue)[0] == 2, timeout=10, what="prefetch")

    doomed.send(signal.SIGKILL)
    doomed.popen.wait(10)
    private_stack.start_worker()

    results = [poll(private_stack.base_url, user.id_token, task_id) for task_id in task_ids]
    assert [r["status"] for r in results] == ["done"] * 5
    # The three held tasks came back to the queue and ran a second time; the others once.
    assert sorted(stored_attempts(task_ids)) == [1, 1, 2, 2, 2]
    assert all(r["predictions"][0]["class_id"] in COFFEE_CLASSES for r in results)
