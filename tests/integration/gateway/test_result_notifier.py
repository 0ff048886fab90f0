"""The long-poll machinery against the real Redis: the worker's ResultWriter announces a stored
result and the gateway's one subscription wakes exactly the requests waiting for it."""

import asyncio
import uuid
from collections.abc import Callable

from app.core.redis import request_client
from app.tasks.store import TaskStore
from app.tasks.waiter import ResultNotifier, wait_for_result
from config import Settings
from contracts.redis_keys import RESULT_CHANNEL, result_announcement
from contracts.results import TaskRecord, TaskStatus, utc_now
from tools.devstack import REDIS_URL
from worker.result_writer import ResultWriter


def _settings() -> Settings:
    return Settings(redis_url=REDIS_URL)


async def _until(predicate: Callable[[], bool], what: str) -> None:
    for _ in range(600):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(f"timed out waiting for {what}")


async def _waiting_read(
    store: TaskStore, notifier: ResultNotifier, pending: TaskRecord
) -> "asyncio.Task[TaskRecord | None]":
    """``pending`` reserved, and a long-poll for it already waiting on the announcement."""
    await asyncio.wait_for(notifier.subscribed.wait(), 30)
    await store.reserve(pending, None)
    waiting = asyncio.create_task(
        wait_for_result(store, notifier, pending.task_id, owner_uid="uid-1", wait_seconds=60)
    )
    await _until(lambda: notifier.waiting == 1, "the read to wait")
    return waiting


def _pending_and_done() -> tuple[TaskRecord, TaskRecord]:
    """A new task's pending record and the done record that replaces it."""
    pending = TaskRecord(
        task_id=str(uuid.uuid4()),
        owner_uid="uid-1",
        status=TaskStatus.PENDING,
        submitted_at=utc_now(),
    )
    return pending, pending.model_copy(
        update={"status": TaskStatus.DONE, "completed_at": utc_now()}
    )


def test_an_announcement_wakes_only_the_watchers_of_that_task() -> None:
    async def scenario() -> tuple[bool, bool]:
        import redis.asyncio as aioredis

        notifier = ResultNotifier(_settings())
        notifier.start()
        publisher = aioredis.Redis.from_url(REDIS_URL)
        try:
            await asyncio.wait_for(notifier.subscribed.wait(), 30)
            mine, other = str(uuid.uuid4()), str(uuid.uuid4())
            with notifier.watch(mine) as woken, notifier.watch(other) as untouched:
                await publisher.publish(RESULT_CHANNEL, mine)
                await asyncio.wait_for(woken.wait(), 30)
                return woken.is_set(), untouched.is_set()
        finally:
            await publisher.aclose()
            await notifier.close()

    woken, untouched = asyncio.run(scenario())
    assert woken
    assert not untouched


def test_a_waiting_read_returns_the_result_the_worker_stores() -> None:
    settings = _settings()
    pending, done = _pending_and_done()
    task_id = pending.task_id

    async def scenario() -> TaskRecord | None:
        redis = request_client(settings)
        store, notifier, writer = TaskStore(settings, redis), ResultNotifier(settings), None
        notifier.start()
        try:
            waiting = await _waiting_read(store, notifier, pending)
            assert not waiting.done()  # still pending: it must not have answered
            writer = ResultWriter(settings)
            await asyncio.to_thread(writer.put, done)
            record = await asyncio.wait_for(waiting, 90)
            assert notifier.waiting == 0
            return record
        finally:
            if writer is not None:
                writer.close()
            await notifier.close()
            await redis.aclose()

    record = asyncio.run(scenario())
    assert record is not None
    assert record.status is TaskStatus.DONE
    assert record.task_id == task_id


def test_a_zero_wait_answers_pending_at_once() -> None:
    settings = _settings()
    task_id = str(uuid.uuid4())
    pending = TaskRecord(
        task_id=task_id, owner_uid="uid-1", status=TaskStatus.PENDING, submitted_at=utc_now()
    )

    async def scenario() -> TaskRecord | None:
        redis = request_client(settings)
        store, notifier = TaskStore(settings, redis), ResultNotifier(settings)
        try:
            await store.reserve(pending, None)
            return await wait_for_result(
                store, notifier, task_id, owner_uid="uid-1", wait_seconds=0
            )
        finally:
            await notifier.close()
            await redis.aclose()

    record = asyncio.run(scenario())
    assert record is not None and record.status is TaskStatus.PENDING


def test_a_woken_read_answers_with_the_announced_record_without_reading_again() -> None:
    """The store still says pending (the key is never rewritten here): only the record carried
    by the announcement can make the waiting read answer ``done``."""
    settings = _settings()
    pending, done = _pending_and_done()
    task_id = pending.task_id

    async def scenario() -> TaskRecord | None:
        import redis.asyncio as aioredis

        redis = request_client(settings)
        store, notifier = TaskStore(settings, redis), ResultNotifier(settings)
        publisher = aioredis.Redis.from_url(REDIS_URL)
        notifier.start()
        try:
            waiting = await _waiting_read(store, notifier, pending)
            await publisher.publish(RESULT_CHANNEL, result_announcement(task_id, done.to_json()))
            return await asyncio.wait_for(waiting, 30)
        finally:
            await publisher.aclose()
            await notifier.close()
            await redis.aclose()

    record = asyncio.run(scenario())
    assert record == done
