"""The task history the gateway keeps in MariaDB: written when a task is queued and when it
ends, read by ``GET /tasks``, erased on request and purged after the retention period.

With ``SNAPMATCH_HISTORY_RETENTION_DAYS=0`` history is off: nothing is written, the lists are
empty. The catalog's migrations create the table; until they have run (or while MariaDB is
down) every call raises CatalogUnavailableError, and the writers are best effort: a queued task
whose row could not be written gets it when it finishes (``app.history.events``).
"""

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

import structlog

from app.catalog.database import CatalogUnavailableError, Database
from app.history import queries
from app.history.cursor import Position, decode_cursor, encode_cursor
from app.history.queries import HistoryRow
from config import Settings
from contracts.results import TaskRecord, utc_now

logger = structlog.stdlib.get_logger(__name__)

_PURGE_BATCH_ROWS = 10_000
_T = TypeVar("_T")


class TaskHistory:
    def __init__(
        self, settings: Settings, database: Database, schema_ready: Callable[[], bool]
    ) -> None:
        self._retention_days = settings.history_retention_days
        self._purge_interval = settings.history_purge_interval_seconds
        self._database = database
        self._schema_ready = schema_ready
        self._purger: asyncio.Task[None] | None = None

    @property
    def enabled(self) -> bool:
        return self._retention_days > 0

    def start(self) -> None:
        """Purge expired rows now and every ``history_purge_interval_seconds``."""
        if self.enabled:
            self._purger = asyncio.create_task(self._purge_forever(), name="history-purge")

    async def close(self) -> None:
        if self._purger is not None:
            self._purger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._purger

    # --- writing ----------------------------------------------------------------------------
    async def record_submitted(self, record: TaskRecord, *, model_name: str | None) -> None:
        """Best effort: a failure is logged, the upload goes on (the finished row comes later)."""
        if not self.enabled:
            return
        try:
            await self._run(lambda c: queries.insert_submitted(c, record, model_name=model_name))
        except CatalogUnavailableError as exc:
            logger.warning("history row not written at submission", error=str(exc))

    async def record_finished(self, record: TaskRecord) -> None:
        """Raises CatalogUnavailableError: the caller keeps the event and retries."""
        if self.enabled:
            await self._run(lambda c: queries.upsert_finished(c, record))

    # --- reading ----------------------------------------------------------------------------
    async def page(
        self, owner_uid: str, *, limit: int, cursor: str | None
    ) -> tuple[list[HistoryRow], str | None]:
        """One page of the owner's tasks, newest first, and the cursor of the next page (None
        after the last). Raises InvalidCursorError for a cursor this server did not make."""
        after = None if cursor is None else decode_cursor(cursor)
        if not self.enabled:
            return [], None
        rows = await self._run(
            lambda c: queries.list_page(
                c, owner_uid, limit=limit + 1, after=after, not_before=self._oldest_kept()
            )
        )
        if len(rows) <= limit:
            return rows, None
        last = rows[limit - 1]
        return rows[:limit], encode_cursor(Position(last.submitted_at, last.task_id))

    async def get(self, owner_uid: str, task_id: str) -> HistoryRow | None:
        if not self.enabled:
            return None
        return await self._run(
            lambda c: queries.get_row(c, owner_uid, task_id, not_before=self._oldest_kept())
        )

    async def task_ids(self, owner_uid: str) -> list[str]:
        """Every task id the owner has a row for (rows past retention included); none when
        history is off."""
        if not self.enabled:
            return []
        return await self._run(lambda c: queries.owner_task_ids(c, owner_uid))

    # --- erasing ----------------------------------------------------------------------------
    async def delete(self, owner_uid: str, task_ids: list[str]) -> int:
        """Delete the owner's rows of ``task_ids``; how many there were (0 when history is off)."""
        if not self.enabled:
            return 0
        return await self._run(lambda c: queries.delete_rows(c, owner_uid, task_ids))

    async def purge(self) -> int:
        """Delete every row older than the retention period; how many were deleted."""
        cutoff = self._oldest_kept()
        total = 0
        while True:
            deleted = await self._run(
                lambda c: queries.purge_older_than(c, cutoff, batch=_PURGE_BATCH_ROWS)
            )
            total += deleted
            if deleted < _PURGE_BATCH_ROWS:
                return total

    async def _purge_forever(self) -> None:
        while True:
            try:
                deleted = await self.purge()
            except CatalogUnavailableError as exc:
                logger.warning("history purge skipped", error=str(exc))
            else:
                if deleted:
                    logger.info("history purged", rows=deleted, retention_days=self._retention_days)
            await asyncio.sleep(self._purge_interval)

    def _oldest_kept(self) -> datetime:
        return utc_now() - timedelta(days=self._retention_days)

    async def _run(self, query: Callable[..., _T]) -> _T:
        if not self._schema_ready():
            raise CatalogUnavailableError("the database schema has not been applied yet")
        return await self._database.run(query)
