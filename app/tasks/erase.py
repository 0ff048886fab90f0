"""Deleting a user's tasks: the one place that knows everything a task leaves behind.

``erase_task`` removes the Redis record (pending marker or result), marks the task cancelled
so that a worker that has not run it yet skips it and one running it stores nothing, deletes
its history row and its images in object storage (original and processed), so "delete" and
"delete my data" stay complete.
"""

import structlog

from app.history.service import TaskHistory
from app.storage.photos import PhotoStore
from app.tasks.store import TaskStore

logger = structlog.stdlib.get_logger(__name__)


class TaskEraser:
    def __init__(self, store: TaskStore, history: TaskHistory, photos: PhotoStore) -> None:
        self._store = store
        self._history = history
        self._photos = photos

    async def erase_task(self, task_id: str, *, owner_uid: str) -> bool:
        """Delete ``owner_uid``'s task ``task_id``. False when they have no such task (someone
        else's task is left alone). Raises ResultStoreUnavailableError, CatalogUnavailableError
        or ObjectStoreUnavailableError; repeating the call after any of them finishes the job."""
        found = await self._store.erase(task_id, owner_uid)
        rows = await self._history.delete(owner_uid, [task_id])
        images = await self._photos.delete_task_images(task_id=task_id, owner_uid=owner_uid)
        if found or rows or images:
            logger.info(
                "task deleted", task_id=task_id, had_record=found, history_rows=rows, images=images
            )
        return found or rows > 0 or images > 0

    async def erase_all(self, *, owner_uid: str) -> int:
        """Delete every task of ``owner_uid`` ("delete my data"); how many were found."""
        task_ids = await self._store.owner_task_ids(owner_uid)
        task_ids |= set(await self._history.task_ids(owner_uid))
        erased = 0
        for task_id in sorted(task_ids):
            erased += await self._store.erase(task_id, owner_uid)
        await self._history.delete(owner_uid, sorted(task_ids))
        images = await self._photos.delete_owner_images(owner_uid=owner_uid)
        logger.info(
            "all tasks of a user deleted", tasks=len(task_ids), records=erased, images=images
        )
        return len(task_ids)
