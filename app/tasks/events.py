"""The gateways' reader of terminal-result events: history rows and webhooks, off the
inference path.

A worker appends each terminal result to its queue's Redis stream in the same script that
stores the result (``worker.result_writer``), so a stored result always has its event. The
gateways read the stream as one consumer group: each event goes to one gateway, which writes
the task's history row and queues its webhook, and acknowledges the event only then. An event
whose handling fails (MariaDB down) stays pending and is retried; one held by a gateway that
died is claimed by another after ``_CLAIM_IDLE_MS``. An event of a task deleted meanwhile is
dropped. Every few seconds the stream is trimmed to the entries not yet acknowledged, so it
holds only the backlog (``EVENTS_MAX_LENGTH`` bounds it when no gateway reads at all). Nothing
a worker does waits for any of this.
"""

import asyncio
import contextlib
import os
import socket
import time
import uuid

import redis.asyncio as aioredis
import structlog
from pydantic import ValidationError
from redis.exceptions import RedisError, ResponseError

from app.catalog.database import CatalogUnavailableError
from app.history.service import TaskHistory
from app.tasks.store import ResultStoreUnavailableError, TaskStore
from app.webhooks.delivery import WebhookOutbox
from config import Settings
from contracts.redis_keys import EVENT_CONSUMER_GROUP, EVENT_RECORD_FIELD, events_key
from contracts.results import TaskRecord

logger = structlog.stdlib.get_logger(__name__)

_READ_COUNT = 50
_BLOCK_MS = 2000
_CLAIM_IDLE_MS = 60_000
_RETRY_SECONDS = 2.0
_TRIM_INTERVAL_SECONDS = 5.0

Entry = tuple[bytes, dict[bytes, bytes] | None]


def result_path(task_id: str) -> str:
    return f"/result/{task_id}"


def _record(raw: bytes | None) -> TaskRecord | None:
    """The event's record; None (logged) for an entry without one, which is acknowledged."""
    if raw is None:
        return None
    try:
        return TaskRecord.from_json(raw)
    except ValidationError as exc:
        logger.error("dropping a result event that is not a task record", error=str(exc))
        return None


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class ResultEventConsumer:
    def __init__(
        self,
        settings: Settings,
        redis: aioredis.Redis,
        *,
        store: TaskStore,
        history: TaskHistory,
        outbox: WebhookOutbox | None,
    ) -> None:
        self._redis = redis  # without a read timeout: XREADGROUP blocks
        self._stream = events_key(settings.task_queue)
        self._store = store
        self._history = history
        self._outbox = outbox
        self._name = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self._task: asyncio.Task[None] | None = None
        self._next_trim = 0.0

    def start(self) -> None:
        """Always started, even with history and webhooks off: reading is what trims the
        stream (``_trim``), which would otherwise hold ``EVENTS_MAX_LENGTH`` results."""
        self._task = asyncio.create_task(self._consume_forever(), name="result-events")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _consume_forever(self) -> None:
        backlog = True  # first our own unacknowledged entries, then new ones
        group_ready = False  # (re)created after any Redis error: Redis may have lost it
        while True:
            try:
                if not group_ready:
                    await self._ensure_group()
                    group_ready = True
                if backlog:
                    entries = await self._read("0", block=None)
                    entries += await self._claim_stale()
                    backlog = bool(entries)
                    if not entries:
                        continue
                else:
                    entries = await self._read(">", block=_BLOCK_MS)
                if not await self._handle_all(entries):
                    backlog = True
                    await asyncio.sleep(_RETRY_SECONDS)
                else:
                    await self._trim()
            except RedisError as exc:
                logger.warning("result events unavailable; retrying", error=str(exc))
                backlog, group_ready = True, False
                await asyncio.sleep(_RETRY_SECONDS)
            except Exception:  # a bug must not stop the history and webhooks for good
                logger.exception("result events: unexpected error; retrying")
                backlog = True
                await asyncio.sleep(_RETRY_SECONDS)

    async def _ensure_group(self) -> None:
        try:
            await self._redis.xgroup_create(
                self._stream, EVENT_CONSUMER_GROUP, id="0", mkstream=True
            )
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def _read(self, start: str, *, block: int | None) -> list[Entry]:
        reply = await self._redis.xreadgroup(
            EVENT_CONSUMER_GROUP,
            self._name,
            {self._stream: start},
            count=_READ_COUNT,
            block=block,
        )
        # An entry trimmed while pending comes back without fields: it is acknowledged below.
        return [entry for _, entries in reply or [] for entry in entries]

    async def _claim_stale(self) -> list[Entry]:
        """Entries another gateway took and has not acknowledged for a minute: it died."""
        reply = await self._redis.xautoclaim(
            self._stream,
            EVENT_CONSUMER_GROUP,
            self._name,
            min_idle_time=_CLAIM_IDLE_MS,
            count=_READ_COUNT,
        )
        return list(reply[1])

    async def _handle_all(self, entries: list[Entry]) -> bool:
        """Handle and acknowledge entries in order; False at the first that must wait."""
        for entry_id, fields in entries:
            raw = (fields or {}).get(EVENT_RECORD_FIELD.encode())
            record = _record(raw)
            if record is not None:
                try:
                    await self.handle(record)
                except (CatalogUnavailableError, ResultStoreUnavailableError) as exc:
                    logger.warning("result event not handled yet; retrying", error=str(exc))
                    return False
            await self._redis.xack(self._stream, EVENT_CONSUMER_GROUP, entry_id)
        return True

    async def _trim(self) -> None:
        """Drop the entries every gateway is done with: all before the oldest still pending,
        or up to the last one delivered when none is pending."""
        now = time.monotonic()
        if now < self._next_trim:
            return
        self._next_trim = now + _TRIM_INTERVAL_SECONDS
        pending = await self._redis.xpending(self._stream, EVENT_CONSUMER_GROUP)
        oldest = pending.get("min") if pending and pending.get("pending") else None
        if oldest is None:
            groups = await self._redis.xinfo_groups(self._stream)
            names = {_text(group["name"]): group for group in groups}
            group = names.get(EVENT_CONSUMER_GROUP)
            oldest = None if group is None else group["last-delivered-id"]
        if oldest is not None:
            await self._redis.xtrim(self._stream, minid=oldest, approximate=False)

    async def handle(self, record: TaskRecord) -> None:
        """Write the history row and queue the webhook of one terminal result."""
        if await self._store.is_cancelled(record.task_id):
            return  # deleted by its owner before we got here
        await self._history.record_finished(record)
        if self._outbox is not None:
            try:
                await self._outbox.enqueue(record, result_url=result_path(record.task_id))
            except RedisError as exc:
                raise ResultStoreUnavailableError(str(exc)) from exc
