"""JSON logs of both processes: the task id travels gateway → message → worker, and the
user's Firebase uid never appears in clear, only as its hash."""

import json
from typing import Any

from config.structured_logging import hash_uid
from tests.support.client import poll, upload
from tools.devstack import Process, Stack, wait_until
from tools.devstack.emulator import SignedInUser


def _json_lines_about(process: Process, task_id: str) -> list[dict[str, Any]]:
    """Every line mentioning the task must be one JSON object; those are returned."""
    lines = [line for line in process.log().splitlines() if task_id in line]
    return [json.loads(line) for line in lines]


def test_a_task_is_traceable_across_both_logs_without_the_uid(
    stack: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    response = upload(stack.base_url, user.id_token, coffee_jpeg)
    assert response.status_code == 202, response.text
    task_id = response.json()["task_id"]
    assert poll(stack.base_url, user.id_token, task_id)["status"] == "done"
    assert stack.gateway is not None
    gateway, worker = stack.gateway, stack.workers[0]

    def worker_logged_the_result() -> bool:
        return any(line.get("task_id") == task_id for line in _json_lines_about(worker, task_id))

    wait_until(worker_logged_the_result, timeout=30, what="the worker's log line for the task")

    queued = [
        line for line in _json_lines_about(gateway, task_id) if line.get("event") == "task queued"
    ]
    assert len(queued) == 1, gateway.log()[-3000:]
    assert queued[0]["task_id"] == task_id
    assert queued[0]["user"] == hash_uid(user.uid)
    assert queued[0]["process"] == "gateway"
    assert queued[0]["level"] == "info" and queued[0]["timestamp"]

    worker_lines = [line for line in _json_lines_about(worker, task_id) if "task_id" in line]
    assert worker_lines and all(line["task_id"] == task_id for line in worker_lines)
    assert all(line["user"] == hash_uid(user.uid) for line in worker_lines)
    assert all(line["process"] == "worker" for line in worker_lines)
    assert any(line.get("status") == "done" for line in worker_lines)

    for process in (gateway, worker):
        log = process.log()
        assert user.uid not in log, f"{process.name} logged a uid in clear"
        for line in filter(None, log.splitlines()):
            assert isinstance(json.loads(line), dict), f"{process.name}: {line!r}"
