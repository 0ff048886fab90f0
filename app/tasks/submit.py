"""Submitting an upload: reserve the task, store its photo, publish it, and undo what was
done if a step fails. The one place that knows the order of these steps.

1. reserve: the ``pending`` record and the idempotency binding, atomically (``TaskStore``); a
   replayed key returns its earlier task here and nothing is published;
2. store the original in the photo bucket (``PhotoStore``), unless it is a direct upload that
   the phone already put there;
3. publish with a publisher confirm (``TaskPublisher``): the photo inline when it is smaller
   than ``claim_check_min_bytes``, else its object key (claim check); always the key for a
   direct upload;
4. on a failed store or a refused publish, release the reservation so that neither a stale
   ``pending`` nor a key bound to a task that never ran is left behind (if Redis is down too,
   both simply expire), and delete the original this request stored.
"""

import asyncio
import contextlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import structlog
from google.protobuf.timestamp_pb2 import Timestamp
from opentelemetry import propagate, trace

from app.history.service import TaskHistory
from app.storage.photos import PhotoStore
from app.tasks.idempotency import IdempotencyKey, fingerprint
from app.tasks.publisher import TaskPublisher
from app.tasks.store import Batch, ResultStoreUnavailableError, TaskStore
from config import tracing
from config.object_store import ObjectStoreUnavailableError
from config.structured_logging import task_fields
from contracts.object_keys import original_key
from contracts.results import TaskRecord, TaskStatus, utc_now
from contracts.task_pb2 import TaskMessage

logger = structlog.stdlib.get_logger(__name__)
tracer = trace.get_tracer(__name__)

# Batch ids derived from (user, Idempotency-Key), so a retried batch keeps its id.
_BATCH_NAMESPACE = uuid.UUID("5b0e7e3c-8d4a-4c0e-9f57-0a6c3c1d2e4f")


@dataclass(frozen=True, slots=True)
class Photo:
    """An upload that passed the gateway's checks."""

    data: bytes  # empty for a direct upload: its bytes are in the photo bucket already
    content_type: str
    fcm_token: str = ""  # empty: the client wants no push
    model: str = ""  # the model the gateway resolved (empty: the worker's default)
    # A direct upload, stored at its task's original key by the phone: the upload id becomes
    # the task id.
    upload_id: str | None = None
    size_bytes: int = 0  # of a direct upload (a multipart upload's is len(data))

    @property
    def size(self) -> int:
        return self.size_bytes or len(self.data)


@dataclass(frozen=True, slots=True)
class Submission:
    task_id: str
    replayed: bool  # True: an earlier upload with the same Idempotency-Key created the task


@dataclass(frozen=True, slots=True)
class BatchSubmission:
    batch_id: str
    task_ids: tuple[str, ...]  # in upload order
    replayed: bool  # True: every task came from an earlier batch with the same Idempotency-Key


class TaskSubmitter:
    def __init__(
        self,
        store: TaskStore,
        publisher: TaskPublisher,
        history: TaskHistory,
        photos: PhotoStore,
        *,
        claim_check_min_bytes: int,
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._history = history
        self._photos = photos
        self._claim_check_min_bytes = claim_check_min_bytes

    async def submit(
        self, photo: Photo, *, owner_uid: str, idempotency_key: str | None = None
    ) -> Submission:
        """Queue ``photo`` for ``owner_uid``.

        Raises ResultStoreUnavailableError, IdempotencyKeyReusedError, ObjectStoreUnavailableError
        or BrokerUnavailableError (QueueFullError when the queue is at its bound); in each case
        nothing was queued.
        """
        key = (
            None
            if idempotency_key is None
            else IdempotencyKey(owner_uid, idempotency_key, _fingerprint(photo))
        )
        return await self._submit(photo, owner_uid=owner_uid, key=key)

    async def submit_batch(
        self, photos: Sequence[Photo], *, owner_uid: str, idempotency_key: str | None = None
    ) -> BatchSubmission:
        """Queue every photo (already checked) as a task of its own, under one batch id.

        With an ``Idempotency-Key``, each photo is bound to the key, its index and the batch's
        size, and the batch id is derived from the user and the key: a retried batch returns
        the same batch and tasks, and one that failed half-way (broker down) queues only the
        photos that were not queued before. Raises like :meth:`submit`; photos queued before a
        failure stay queued and reach their results.
        """
        if idempotency_key is None:
            batch_id = str(uuid.uuid4())
        else:
            batch_id = str(uuid.uuid5(_BATCH_NAMESPACE, f"{owner_uid}\0{idempotency_key}"))
        keys = [
            None
            if idempotency_key is None
            else IdempotencyKey(
                owner_uid,
                f"{idempotency_key}\0batch[{index}]",
                f"{_fingerprint(photo)}:of {len(photos)}",
            )
            for index, photo in enumerate(photos)
        ]
        # Published side by side: the confirms overlap. Each task is created (id, submission
        # time) in upload order before its first await, so the history keeps that order.
        submissions = await asyncio.gather(
            *(
                self._submit(photo, owner_uid=owner_uid, key=key)
                for photo, key in zip(photos, keys, strict=True)
            )
        )
        task_ids = tuple(s.task_id for s in submissions)
        await self._store.put_batch(Batch(batch_id, owner_uid, task_ids))
        return BatchSubmission(batch_id, task_ids, replayed=all(s.replayed for s in submissions))

    async def _submit(
        self, photo: Photo, *, owner_uid: str, key: IdempotencyKey | None
    ) -> Submission:
        task_id = photo.upload_id or str(uuid.uuid4())
        # Every later line of this request carries the task id and the user's pseudonym.
        structlog.contextvars.bind_contextvars(**task_fields(task_id, owner_uid))
        record = TaskRecord(
            task_id=task_id, owner_uid=owner_uid, status=TaskStatus.PENDING, submitted_at=utc_now()
        )
        reservation = await self._store.reserve(record, key)
        if reservation.replayed:
            return Submission(reservation.task_id, replayed=True)
        stored_here = photo.upload_id is None
        inline = stored_here and photo.size < self._claim_check_min_bytes
        try:
            if stored_here:
                await self._photos.put_original(
                    photo.data,
                    owner_uid=owner_uid,
                    task_id=task_id,
                    content_type=photo.content_type,
                )
            with tracing.span(
                tracer,
                "publish task",
                kind=trace.SpanKind.PRODUCER,
                attributes={"messaging.system": "rabbitmq", "messaging.message.id": task_id},
            ):
                await self._publisher.publish(_message(record, photo, inline), task_id=task_id)
        except Exception as exc:
            logger.warning("task not queued", reason=str(exc))
            with contextlib.suppress(ResultStoreUnavailableError):
                await self._store.release(reservation)
            if stored_here:
                with contextlib.suppress(ObjectStoreUnavailableError):
                    await self._photos.delete_task_images(task_id=task_id, owner_uid=owner_uid)
            raise
        logger.info(
            "task queued",
            bytes=photo.size,
            claim_check=not inline,
            content_type=photo.content_type,
            push=bool(photo.fcm_token),
            model=photo.model,
        )
        await self._history.record_submitted(record, model_name=photo.model or None)
        return Submission(task_id, replayed=False)


def _fingerprint(photo: Photo) -> str:
    """What an Idempotency-Key is bound to: the photo's bytes, or the direct upload's id."""
    return fingerprint(photo.data or str(photo.upload_id).encode(), photo.model)


def _message(record: TaskRecord, photo: Photo, inline: bool) -> bytes:
    submitted_at = Timestamp()
    submitted_at.FromDatetime(record.submitted_at)
    message = TaskMessage(
        task_id=record.task_id,
        owner_uid=record.owner_uid,
        content_type=photo.content_type,
        submitted_at=submitted_at,
        fcm_token=photo.fcm_token,
        model=photo.model,
        original_stored=True,
    )
    if inline:
        message.image = photo.data
    else:  # claim check: the worker fetches the photo by its key
        message.image_key = original_key(record.owner_uid, record.task_id)
    if tracing.is_active():  # the publish span's traceparent, for the worker to continue
        propagate.inject(message.trace_context)
    return message.SerializeToString()
