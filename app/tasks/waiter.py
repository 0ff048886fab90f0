"""Long-polling for results: ``GET /result/{id}?wait=N`` answers as soon as the worker stores it.

One Redis pub/sub subscription per gateway process (never one per request) receives what a
worker publishes on ``RESULT_CHANNEL`` after storing a terminal result (the task id and the
record it stored), and wakes the requests waiting for that id, handing them the record so they
answer without reading Redis again. A request registers its wake-up *before* it reads the
store, so a result stored in between is never missed. Pub/sub is at-most-once (a reconnect can
drop a message), so a waiting request also re-reads the store every few seconds as a safety
net: never a busy loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Iterator

import structlog
from redis.exceptions import RedisError

from app.core.redis import subscriber_client
from app.tasks.store import TaskStore
from config import Settings
from contracts.redis_keys import RESULT_CHANNEL, parse_announcement
from contracts.results import TaskRecord

logger = structlog.stdlib.get_logger(__name__)

_RECHECK_SECONDS = 5.0
_RECONNECT_SECONDS = 1.0


class Announcement(asyncio.Event):
    """Set when a task's result is announced; holds the announced record until taken."""

    def __init__(self) -> None:
        super().__init__()
        self.record: TaskRecord | None = None

    def take(self) -> TaskRecord | None:
        record, self.record = self.record, None
        return record


class ResultNotifier:
    """The gateway's one subscription to result announcements, fanned out to waiting requests."""

    def __init__(self, settings: Settings) -> None:
        # A client of its own, without a read timeout: a subscription is idle by nature.
        self._redis = subscriber_client(settings)
        self._waiters: defaultdict[str, set[Announcement]] = defaultdict(set)
        self._listener: asyncio.Task[None] | None = None
        self.subscribed = asyncio.Event()  # set while the subscription is live

    def start(self) -> None:
        self._listener = asyncio.create_task(self._listen_forever(), name="result-notifier")

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        self._wake_all()
        await self._redis.aclose()

    @contextlib.contextmanager
    def watch(self, task_id: str) -> Iterator[Announcement]:
        """An event set when ``task_id``'s result is announced, registered for the block."""
        event = Announcement()
        self._waiters[task_id].add(event)
        try:
            yield event
        finally:
            waiters = self._waiters.get(task_id)
            if waiters is not None:
                waiters.discard(event)
                if not waiters:
                    del self._waiters[task_id]

    @property
    def waiting(self) -> int:
        """How many requests are waiting right now."""
        return sum(len(events) for events in self._waiters.values())

    async def _listen_forever(self) -> None:
        while True:
            try:
                async with self._redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(RESULT_CHANNEL)
                    self.subscribed.set()
                    self._wake_all()  # anything announced while we were away: re-read now
                    async for message in pubsub.listen():
                        if message["type"] == "message":
                            self._wake(message["data"])
            except (RedisError, OSError) as exc:
                self.subscribed.clear()
                logger.warning(
                    "result announcements unavailable; long polls re-read the store meanwhile",
                    error=str(exc),
                    recheck_every_s=_RECHECK_SECONDS,
                    resubscribe_in_s=_RECONNECT_SECONDS,
                )
                await asyncio.sleep(_RECONNECT_SECONDS)

    def _wake(self, raw: bytes | str) -> None:
        task_id, record_json = parse_announcement(raw.decode() if isinstance(raw, bytes) else raw)
        waiters = self._waiters.get(task_id)
        if not waiters:
            return  # most announcements are for other gateways' requests: not even parsed
        record = None
        if record_json is not None:
            try:
                record = TaskRecord.from_json(record_json)
            except ValueError:
                logger.warning("unreadable result announcement; re-reading the store")
        for event in waiters:
            event.record = record
            event.set()

    def _wake_all(self) -> None:
        for events in self._waiters.values():
            for event in events:
                event.set()


async def wait_for_result(
    store: TaskStore,
    notifier: ResultNotifier,
    task_id: str,
    *,
    owner_uid: str,
    wait_seconds: float,
) -> TaskRecord | None:
    """The task's record; while it is ``owner_uid``'s pending task, wait up to ``wait_seconds``
    seconds for it to finish. Unknown and foreign tasks answer at once (no timing oracle).

    Raises ResultStoreUnavailableError like ``TaskStore.get``.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds
    with notifier.watch(task_id) as announced:
        while True:
            announced.clear()  # before the read: an announcement during it still wakes us
            record = announced.take() or await store.get(task_id)
            if record is None or record.owner_uid != owner_uid or record.is_terminal:
                return record
            remaining = deadline - loop.time()
            if remaining <= 0:
                return record
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(announced.wait(), min(remaining, _RECHECK_SECONDS))
