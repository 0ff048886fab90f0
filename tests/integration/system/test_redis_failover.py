"""A replicated Redis under real Sentinels (private processes on loopback): workers ack a task
only once a replica holds its result, and when the primary dies the gateway and the workers
follow Sentinel to the promoted replica without losing an acknowledged result."""

import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import cast

import httpx
import pytest
import redis

from config import Settings
from contracts.redis_keys import task_key
from contracts.results import TaskRecord, TaskStatus, utc_now
from tests.support.client import auth, poll, upload
from tools.devstack import TEST_SERVICES, Stack, delete_queue, queue_counts, wait_until
from tools.devstack.emulator import SignedInUser
from tools.devstack.redis_sentinel import SERVICE, SentinelledRedis
from tools.devstack.redis_server import RedisServer
from worker.result_writer import ResultNotReplicatedError, ResultWriter

# What the worker logs when a stored result, checked again, is confirmed and its task acked.
ACKED_ONCE_REPLICATED = "task already has a result; acknowledging its message"


@pytest.fixture
def sentinelled(tmp_path: Path) -> Iterator[SentinelledRedis]:
    with SentinelledRedis(tmp_path / "redis") as group:
        yield group


def _writer(group: SentinelledRedis) -> ResultWriter:
    settings = Settings(
        _env_file=None,
        redis_sentinels=group.sentinels_setting().split(","),
        redis_sentinel_service=SERVICE,
        redis_min_replica_acks=1,
        redis_replica_ack_timeout_ms=300,
    )
    return ResultWriter(settings)


def _record(task_id: str) -> TaskRecord:
    now = utc_now()
    return TaskRecord(
        task_id=task_id,
        owner_uid="alice",
        status=TaskStatus.DONE,
        submitted_at=now,
        completed_at=now,
        attempts=1,
    )


def _holds(server: RedisServer, task_id: str) -> bool:
    client = redis.Redis(port=server.port)
    try:
        return client.exists(task_key(task_id)) == 1
    finally:
        client.close()


def test_a_result_counts_as_stored_only_once_a_replica_holds_it(
    sentinelled: SentinelledRedis,
) -> None:
    writer = _writer(sentinelled)
    primary = sentinelled.primary()
    [replica] = [server for server in sentinelled.servers if server is not primary]
    try:
        writer.put(_record("t-1"))
        assert _holds(replica, "t-1")

        replica.kill()
        with pytest.raises(ResultNotReplicatedError, match="0 of 1 replicas"):
            writer.put(_record("t-2"))
        stored = writer.get("t-2")
        assert stored is not None  # on the primary and served, but its task is not acked
        with pytest.raises(ResultNotReplicatedError):
            writer.ensure_replicated(stored)

        sentinelled.rejoin(replica)
        writer.ensure_replicated(stored)
        assert _holds(replica, "t-2")
        ttl = cast(int, redis.Redis(port=primary.port).ttl(task_key("t-2")))
        assert 0 < ttl <= Settings(_env_file=None).result_ttl_seconds  # expiry kept
    finally:
        writer.close()


def _get_until_answered(stack: Stack, token: str, task_id: str) -> httpx.Response:
    """GET a result as a client honouring Retry-After would, while Redis fails over."""
    deadline = time.monotonic() + 30
    while True:
        response = httpx.get(f"{stack.base_url}/result/{task_id}", headers=auth(token), timeout=10)
        if response.status_code != 503 or time.monotonic() > deadline:
            return response
        time.sleep(0.5)


def test_acknowledged_results_survive_the_loss_of_the_primary(
    sentinelled: SentinelledRedis, tmp_path: Path, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    services = replace(TEST_SERVICES, redis_url=sentinelled.primary().url)
    stack = Stack(
        queue=f"tasks-{uuid.uuid4().hex[:8]}",
        log_dir=tmp_path,
        services=services,
        env_overrides=sentinelled.env(min_replica_acks=1),
    )
    try:
        stack.start_gateway()
        worker = stack.start_worker()
        response = upload(stack.base_url, user.id_token, coffee_jpeg)
        assert response.status_code == 202, response.text
        before = response.json()["task_id"]
        assert poll(stack.base_url, user.id_token, before)["status"] == "done"

        old = sentinelled.kill_primary()
        sentinelled.await_promotion(old)
        # Acked before the loss, so on the replica, which now serves it.
        answer = _get_until_answered(stack, user.id_token, before)
        assert answer.status_code == 200 and answer.json()["status"] == "done", answer.text

        # New work is stored on the promoted primary and served at once, but with no replica
        # left its task stays unacked until the old primary is back as a replica.
        deadline = time.monotonic() + 30
        while (response := upload(stack.base_url, user.id_token, coffee_jpeg)).status_code != 202:
            assert response.status_code == 503 and time.monotonic() < deadline, response.text
            time.sleep(0.5)
        after = response.json()["task_id"]
        assert poll(stack.base_url, user.id_token, after)["status"] == "done"
        wait_until(
            lambda: bool(worker.events("result not yet on enough replicas; holding the task")),
            timeout=15,
            what="the worker to hold the task for want of a replica",
        )

        sentinelled.rejoin(old)
        wait_until(
            lambda: bool(worker.events(ACKED_ONCE_REPLICATED)),
            timeout=30,
            what="the worker to ack once the replica confirmed",
        )
        assert _holds(old, after)
        assert worker.stop() == 0
        assert queue_counts(stack.queue)[0] == 0  # nothing went back to the queue
    finally:
        stack.stop()
        delete_queue(stack.queue)
