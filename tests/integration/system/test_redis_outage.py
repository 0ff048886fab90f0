"""Redis gone: the gateway refuses what it can neither record nor read, the worker keeps the
task it could not store, and everything recovers when Redis returns."""

import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.client import auth, poll, upload
from tests.support.metrics import scrape, value
from tests.support.stacks import custom_stack
from tools.devstack import TEST_VHOST, stored_attempts, wait_until
from tools.devstack.emulator import SignedInUser
from tools.devstack.redis_server import RedisServer


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.kill()


def _unacked(queue: str) -> int:
    out = subprocess.run(
        ["rabbitmqctl", "-q", "list_queues", "-p", TEST_VHOST, "name", "messages_unacknowledged"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    counts = dict(line.split("\t") for line in out.splitlines() if "\t" in line)
    return int(counts[queue])


def test_redis_outage_and_recovery(
    tmp_path: Path, redis_server: RedisServer, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    with custom_stack(tmp_path, SNAPMATCH_REDIS_URL=redis_server.url) as stack:
        worker = stack.start_worker()
        worker.send(signal.SIGSTOP)  # it receives the task but cannot touch it yet
        task_id = upload(stack.base_url, user.id_token, coffee_jpeg).json()["task_id"]
        redis_server.kill()

        refused = upload(stack.base_url, user.id_token, coffee_jpeg)
        assert refused.status_code == 503
        assert refused.json()["error"] == "result_store_unavailable"
        assert refused.headers["Retry-After"]
        poll_now = httpx.get(f"{stack.base_url}/result/{task_id}", headers=auth(user.id_token))
        assert poll_now.status_code == 503
        assert poll_now.json()["error"] == "result_store_unavailable"
        ready = httpx.get(f"{stack.base_url}/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"]["redis"] != "ok"

        # The worker cannot reach the store: it keeps retrying and holds the task, unacked
        # (RabbitMQ refreshes that count every few seconds).
        worker.send(signal.SIGCONT)
        wait_until(
            lambda: "result store unavailable" in worker.log(), timeout=60, what="store retries"
        )
        wait_until(lambda: _unacked(stack.queue) == 1, timeout=30, what="the task held unacked")

        # Back, but empty: the pending marker went with the old process. The result comes.
        redis_server.start()
        result_url = f"{stack.base_url}/result/{task_id}"
        wait_until(
            lambda: httpx.get(result_url, headers=auth(user.id_token)).status_code == 200,
            timeout=60,
            what="the stored result",
        )
        assert httpx.get(result_url, headers=auth(user.id_token)).json()["status"] == "done"
        assert stored_attempts_at(redis_server.url, task_id) == 1
        wait_until(lambda: _unacked(stack.queue) == 0, timeout=30, what="the ack")
        wait_until(
            lambda: httpx.get(f"{stack.base_url}/ready").status_code == 200,
            timeout=30,
            what="/ready",
        )
        again = upload(stack.base_url, user.id_token, coffee_jpeg).json()["task_id"]
        assert poll(stack.base_url, user.id_token, again)["status"] == "done"
        assert worker.alive
        # Both sides counted what Redis did not answer: the alert's signal.
        gateway_errors = value(
            scrape(f"{stack.base_url}/metrics"), "snapmatch_result_store_errors_total"
        )
        assert gateway_errors >= 2  # the refused upload and the refused poll
        worker_metrics = scrape(f"http://127.0.0.1:{worker.metrics_port}/metrics")
        assert value(worker_metrics, "snapmatch_worker_result_store_errors_total") >= 1


def stored_attempts_at(url: str, task_id: str) -> int:
    [attempts] = stored_attempts([task_id], redis_url=url)
    return attempts
