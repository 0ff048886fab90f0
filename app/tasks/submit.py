"""Submitting an upload: reserve the task, publish it, and undo the reservation if the
broker refuses it. The one place that knows the order of these steps.

1. reserve: the ``pending`` record and the idempotency binding, atomically (``TaskStore``); a
   replayed key returns its earlier task here and nothing is published;
2. publish with a publisher confirm (``TaskPublisher``);
3. on a refused publish, release the reservation so that neither a stale ``pending`` nor a key
   bound to a task that never ran is left behind (if Redis is down too, both simply expire).
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
from app.tasks.idempotency import IdempotencyKey, fingerprint
from app.tasks.publisher import TaskPublisher
from app.tasks.store import Batch, ResultStoreUnavailableError, TaskStore
from config import tracing
from config.structured_logging import task_fields
from contracts.results import TaskRecord, TaskStatus, utc_now
from contracts.task_pb2 import TaskMessage

logger = structlog.stdlib.get_logger(__name__)
tracer = trace.get_tracer(__name__)

# Batch ids derived from (user, Idempotency-Key), so a retried batch keeps its id.
_BATCH_NAMESPACE = uuid.UUID("5b0e7e3c-8d4a-4c0e-9f57-0a6c3c1d2e4f")


@dataclass(frozen=True, slots=True)
class Photo:
    """An upload that passed the gateway's checks."""

    data: bytes
    content_type: str
    fcm_token: str = ""  # empty: the client wants no push
    model: str = ""  # the model the gateway resolved (empty: the worker's default)


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
    def __init__(self, store: TaskStore, publisher: TaskPublisher, history: TaskHistory) -> None:
        self._store = store
        self._publisher = publisher
        self._history = history

    async def submit(
        self, photo: Photo, *, owner_uid: str, idempotency_key: str | None = None
    ) -> Submission:
        """Queue ``photo`` for ``owner_uid``.

        Raises ResultStoreUnavailableError, IdempotencyKeyReusedError, or BrokerUnavailableError
        (QueueFullError when the queue is at its bound); in each case nothing was queued.
        """
        key = (
            None
            if idempotency_key is None
            else IdempotencyKey(owner_uid, idempotency_key, fingerprint(photo.data, photo.model))
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
                f"{fingerprint(photo.data, photo.model)}:of {len(photos)}",
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
        task_id = str(uuid.uuid4())
        # Every later line of this request carries the task id and the user's pseudonym.
        structlog.contextvars.bind_contextvars(**task_fields(task_id, owner_uid))
        record = TaskRecord(
            task_id=task_id, owner_uid=owner_uid, status=TaskStatus.PENDING, submitted_at=utc_now()
        )
        reservation = await self._store.reserve(record, key)
        if reservation.replayed:
            return Submission(reservation.task_id, replayed=True)
        try:
            with tracing.span(
                tracer,
                "publish task",
                kind=trace.SpanKind.PRODUCER,
                attributes={"messaging.system": "rabbitmq", "messaging.message.id": task_id},
            ):
                await self._publisher.publish(_message(record, photo), task_id=task_id)
        except Exception as exc:
            logger.warning("task not queued", reason=str(exc))
            with contextlib.suppress(ResultStoreUnavailableError):
                await self._store.release(reservation)
            raise
        logger.info(
            "task queued",
            bytes=len(photo.data),
            content_type=photo.content_type,
            push=bool(photo.fcm_token),
            model=photo.model,
        )
        await self._history.record_submitted(record, model_name=photo.model or None)
        return Submission(task_id, replayed=False)


def _message(record: TaskRecord, photo: Photo) -> bytes:
    submitted_at = Timestamp()
    submitted_at.FromDatetime(record.submitted_at)
    message = TaskMessage(
        task_id=record.task_id,
        owner_uid=record.owner_uid,
        image=photo.data,
        content_type=photo.content_type,
        submitted_at=submitted_at,
        fcm_token=photo.fcm_token,
        model=photo.model,
    )
    if tracing.is_active():  # the publish span's traceparent, for the worker to continue
        propagate.inject(message.trace_context)
    return message.SerializeToString()
