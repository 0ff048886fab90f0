"""The worker's store script on the real Redis: a result, its event and its announcement are
written together, and a deleted task's result is not written at all."""

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import redis
from redis.client import PubSub

from config import Settings
from contracts.redis_keys import (
    EVENT_RECORD_FIELD,
    RESULT_CHANNEL,
    cancelled_key,
    events_key,
    parse_announcement,
    task_key,
)
from contracts.results import Prediction, TaskRecord, TaskStatus
from tools.devstack import REDIS_URL
from worker.result_writer import ResultWriter


@pytest.fixture
def queue() -> str:
    return f"tasks-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def writer(queue: str) -> Iterator[ResultWriter]:
    writer = ResultWriter(Settings(_env_file=None, redis_url=REDIS_URL, task_queue=queue))
    yield writer
    writer.close()
    redis.Redis.from_url(REDIS_URL).delete(events_key(queue))


def _record() -> TaskRecord:
    now = datetime.now(UTC)
    return TaskRecord(
        task_id=str(uuid.uuid4()),
        owner_uid="uid-1",
        status=TaskStatus.DONE,
        submitted_at=now,
        completed_at=now,
        predictions=[Prediction(class_id=967, label="espresso", confidence=0.7)],
        attempts=1,
    )


def test_a_result_is_stored_with_its_event_and_announced(writer: ResultWriter, queue: str) -> None:
    store = redis.Redis.from_url(REDIS_URL)
    announcements = store.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
    announcements.subscribe(RESULT_CHANNEL)
    record = _record()
    assert writer.put(record) is True
    assert TaskRecord.from_json(store.get(task_key(record.task_id))) == record  # type: ignore[arg-type]
    assert 0 < store.ttl(task_key(record.task_id)) <= 300  # type: ignore[operator]
    events = store.xrange(events_key(queue))
    assert [TaskRecord.from_json(f[EVENT_RECORD_FIELD.encode()]) for _, f in events] == [record]  # type: ignore[union-attr]
    assert _announced(announcements, record.task_id)
    announcements.close()


def _announced(announcements: PubSub, task_id: str, seconds: float = 5.0) -> bool:
    """Whether ``task_id`` is announced, its stored record included, within ``seconds`` (the
    channel is shared by every stack, so other ids may come first)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        message = announcements.get_message(timeout=0.2)
        if message is None:
            continue
        announced_id, record_json = parse_announcement(message["data"].decode())
        if announced_id == task_id:
            return record_json is not None and TaskRecord.from_json(record_json).task_id == task_id

    return False


def test_a_deleted_tasks_result_is_not_stored(writer: ResultWriter, queue: str) -> None:
    store = redis.Redis.from_url(REDIS_URL)
    record = _record()
    store.set(cancelled_key(record.task_id), "1", ex=60)
    assert writer.is_cancelled(record.task_id)
    assert writer.put(record) is False
    assert store.get(task_key(record.task_id)) is None
    assert store.xlen(events_key(queue)) == 0
