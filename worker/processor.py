"""Turns one queue message into one terminal task record: the worker's business logic,
free of any RabbitMQ detail so it can be tested on its own."""

import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Protocol

import structlog
from google.protobuf.message import DecodeError
from PIL import Image

from config.object_store import ObjectNotFoundError, ObjectStoreUnavailableError
from config.structured_logging import bind_task
from contracts.results import (
    Failure,
    FailureCode,
    ModelInfo,
    StoredImages,
    TaskRecord,
    TaskStatus,
    Timings,
    utc_now,
)
from contracts.task_pb2 import TaskMessage
from worker.inference.cache import ModelUnavailableError
from worker.inference.classifier import Classification
from worker.inference.preprocess import ImageTooLargeError, UndecodableImageError
from worker.inference.registry import UnknownModelError
from worker.tracing import processing, record_outcome, record_stages, stage

logger = structlog.stdlib.get_logger(__name__)


class ImageClassifier(Protocol):
    name: str
    version: str

    def classify(self, data: bytes) -> Classification: ...


class ModelProvider(Protocol):
    """The models a worker serves (``worker.inference.registry.ModelRegistry``)."""

    def lease(self, requested: str) -> AbstractContextManager[ImageClassifier]:
        """The model named ``requested`` ("" = the default), held while the task runs it.
        Raises UnknownModelError or ModelUnavailableError."""
        ...


class ResultStore(Protocol):
    def get(self, task_id: str) -> TaskRecord | None: ...

    def is_cancelled(self, task_id: str) -> bool:
        """Whether the task's owner deleted it (``DELETE /result/{id}``)."""
        ...

    def put(self, record: TaskRecord) -> bool:
        """Store a terminal result; False (nothing stored) when the task was deleted."""
        ...

    def ensure_replicated(self, record: TaskRecord) -> None:
        """Make a record found already stored as safe as one ``put`` now."""


class ImageStore(Protocol):
    """The photo bucket (``worker.images.TaskImages``). Both calls raise
    ObjectStoreUnavailableError when the store cannot be reached."""

    def photo(self, task: TaskMessage) -> bytes:
        """The photo, inline or fetched by key; ObjectNotFoundError when it is gone."""
        ...

    def stored_by_gateway(self, task: TaskMessage) -> StoredImages | None:
        """The images in the bucket before the worker did anything (no I/O)."""
        ...

    def keep(
        self, task: TaskMessage, photo: bytes, model_input: Image.Image | None
    ) -> StoredImages:
        """Store the processed image (and an original the gateway did not store)."""
        ...


class TaskObserver(Protocol):
    """Told about the work as it happens (metrics, push notifications). Observers must not
    raise; if one does, it is logged and the task's outcome stands."""

    def task_finished(self, task: TaskMessage, record: TaskRecord) -> None: ...


class Outcome(Enum):
    STORED = "stored"  # a new terminal result was written
    ALREADY_DONE = "already_done"  # a redelivery of a task whose result exists
    DROPPED = "dropped"  # unreadable message: there is no task to answer; dead-letter it
    CANCELLED = "cancelled"  # its owner deleted the task: never run, nothing stored; ack it


@dataclass(frozen=True, slots=True)
class Delivery:
    body: bytes
    delivery_count: int  # earlier deliveries of this message (quorum queue x-delivery-count)
    # False only when the broker says this is the message's first delivery (AMQP redelivered
    # flag unset): no earlier delivery can have stored a result, so none is looked for.
    redelivered: bool = True


class TaskProcessor:
    """Classifies the image and stores the result; idempotent under redelivery.

    Store errors propagate (the message must not be acked); image errors become ``failed``
    results (retrying cannot help). An unreachable photo store propagates too (the task goes
    back to the queue) until the last delivery, which records ``object_store_unavailable``.
    RabbitMQ delivers a message at most ``delivery_limit + 1`` times and dead-letters it when
    the last delivery is returned too. So the last delivery
    stores ``failed`` *before* running the model: if the image kills this worker as well, its
    owner still gets a terminal answer; if the model succeeds, ``done`` replaces it.
    """

    def __init__(
        self,
        models: ModelProvider,
        store: ResultStore,
        images: ImageStore,
        *,
        delivery_limit: int,
        observers: Sequence[TaskObserver] = (),
    ):
        self._models = models
        self._store = store
        self._images = images
        self._delivery_limit = delivery_limit
        self._observers = tuple(observers)

    def is_last_delivery(self, delivery: Delivery) -> bool:
        """The broker dead-letters this message if it comes back once more."""
        return delivery.delivery_count >= self._delivery_limit

    def handle(self, delivery: Delivery) -> Outcome:
        task = _parse(delivery.body)
        if task is None:
            return Outcome.DROPPED
        with (
            bind_task(task.task_id, owner_uid=task.owner_uid),
            processing(task, attempt=delivery.delivery_count + 1),
        ):
            return self._handle_task(task, delivery)

    def _handle_task(self, task: TaskMessage, delivery: Delivery) -> Outcome:
        may_have_run = delivery.redelivered or delivery.delivery_count > 0
        existing = self._store.get(task.task_id) if may_have_run else None
        if existing is not None and existing.is_terminal:
            self._store.ensure_replicated(existing)
            logger.info("task already has a result; acknowledging its message")
            return Outcome.ALREADY_DONE
        if self._store.is_cancelled(task.task_id):
            logger.info("task deleted by its owner; skipping it")
            return Outcome.CANCELLED

        attempt = delivery.delivery_count + 1
        if self.is_last_delivery(delivery):
            self._store.put(
                self._failed(
                    task,
                    _submitted(task),
                    attempt,
                    FailureCode.DELIVERY_LIMIT_EXCEEDED,
                    f"processing was interrupted {delivery.delivery_count} times; "
                    "giving up on this image",
                )
            )
        try:
            record = self._run(task, attempt)
        except ObjectStoreUnavailableError as exc:
            if not self.is_last_delivery(delivery):
                raise  # back to the queue, redelivered after the consumer's back-off
            record = self._failed(
                task,
                _submitted(task),
                attempt,
                FailureCode.OBJECT_STORE_UNAVAILABLE,
                f"the photo store could not be reached in {attempt} deliveries: {exc}",
            )
        record_outcome(record)
        with stage("store result"):
            stored = self._store.put(record)
        if not stored:
            logger.info("task deleted by its owner while it ran; result discarded")
            return Outcome.CANCELLED
        logger.info("task finished", status=record.status.value, attempt=record.attempts)
        with stage("notify"):
            self._notify(lambda observer: observer.task_finished(task, record))
        return Outcome.STORED

    def _notify(self, call: Callable[[TaskObserver], None]) -> None:
        for observer in self._observers:
            try:
                call(observer)
            except Exception:
                logger.exception("observer failed; the result stands", observer=repr(observer))

    def handle_dead_letter(self, body: bytes) -> Outcome:
        """A task RabbitMQ gave up on: make sure its owner gets a terminal answer.

        It normally has one already (the last delivery stored ``failed``); it has none when the
        worker died between receiving that delivery and storing, e.g. a task prefetched behind
        one that crashed the worker.
        """
        task = _parse(body)
        if task is None:
            return Outcome.DROPPED
        existing = self._store.get(task.task_id)
        if existing is not None and existing.is_terminal:
            self._store.ensure_replicated(existing)
            return Outcome.ALREADY_DONE
        attempts = self._delivery_limit + 1
        record = self._failed(
            task,
            _submitted(task),
            attempts,
            FailureCode.DELIVERY_LIMIT_EXCEEDED,
            f"the task was not processed in {attempts} deliveries; giving up on this image",
        )
        if not self._store.put(record):
            return Outcome.CANCELLED
        logger.warning("task failed: dead-lettered", task_id=task.task_id, deliveries=attempts)
        self._notify(lambda observer: observer.task_finished(task, record))
        return Outcome.STORED

    def _run(self, task: TaskMessage, attempt: int) -> TaskRecord:
        started = utc_now()
        submitted = _submitted(task)
        try:
            with stage("fetch image"):
                photo = self._images.photo(task)
        except ObjectNotFoundError:
            message = "the photo is no longer in the store (deleted with its task?)"
            failed = self._failed(task, submitted, attempt, FailureCode.IMAGE_MISSING, message)
            return failed.model_copy(update={"images": None})
        try:
            with self._models.lease(task.model) as classifier:
                return self._classify(task, photo, attempt, classifier, started)
        except UnknownModelError as exc:
            code, message, model = FailureCode.UNKNOWN_MODEL, str(exc), None
        except ModelUnavailableError as exc:
            code, message = FailureCode.MODEL_UNAVAILABLE, str(exc)
            model = ModelInfo(name=exc.entry.name, version=exc.entry.version)
        logger.error("task failed: no model to run", code=code.value, reason=message)
        return self._failed(task, submitted, attempt, code, message, model)

    def _classify(
        self,
        task: TaskMessage,
        photo: bytes,
        attempt: int,
        classifier: ImageClassifier,
        started: datetime,
    ) -> TaskRecord:
        model_ready = utc_now()  # after a cache miss, the model was loaded in between
        submitted = _submitted(task)
        model = ModelInfo(name=classifier.name, version=classifier.version)
        # Counted by the chaos run: every line is one execution of the model.
        logger.info("running the model", attempt=attempt, model=model.name, version=model.version)
        started_ns = time.time_ns()
        try:
            outcome = classifier.classify(photo)
        except UndecodableImageError as exc:  # ImageTooLargeError included
            code = (
                FailureCode.IMAGE_TOO_LARGE
                if isinstance(exc, ImageTooLargeError)
                else FailureCode.UNDECODABLE_IMAGE
            )
            failed = self._failed(task, submitted, attempt, code, str(exc), model)
            with stage("store images"):
                return failed.model_copy(update={"images": self._images.keep(task, photo, None)})
        with stage("store images"):
            images = self._images.keep(task, photo, outcome.model_input)
        completed = utc_now()
        record_stages(
            started_ns, preprocess_ms=outcome.preprocess_ms, inference_ms=outcome.inference_ms
        )
        return TaskRecord(
            task_id=task.task_id,
            owner_uid=task.owner_uid,
            status=TaskStatus.DONE,
            submitted_at=submitted,
            completed_at=completed,
            model=model,
            predictions=outcome.predictions,
            timings=Timings(
                queued_ms=_ms(started - submitted),
                model_load_ms=_ms(model_ready - started),
                preprocess_ms=round(outcome.preprocess_ms, 3),
                inference_ms=round(outcome.inference_ms, 3),
                total_ms=_ms(completed - submitted),
            ),
            attempts=attempt,
            images=images,
        )

    def _failed(
        self,
        task: TaskMessage,
        submitted: datetime,
        attempt: int,
        code: FailureCode,
        message: str,
        model: ModelInfo | None = None,
    ) -> TaskRecord:
        """A failure before the worker stored anything: the images are what the gateway
        stored (a failure after decoding adds its own)."""
        return TaskRecord(
            task_id=task.task_id,
            owner_uid=task.owner_uid,
            status=TaskStatus.FAILED,
            submitted_at=submitted,
            completed_at=utc_now(),
            model=model,
            error=Failure(code=code, message=message),
            attempts=attempt,
            images=self._images.stored_by_gateway(task),
        )


def _parse(body: bytes) -> TaskMessage | None:
    try:
        task = TaskMessage.FromString(body)
    except DecodeError:
        logger.error("dropping a message that is not a TaskMessage", bytes=len(body))
        return None
    if not task.task_id or not task.owner_uid:
        logger.error("dropping a TaskMessage without task id or owner")
        return None
    return task


def _submitted(task: TaskMessage) -> datetime:
    return task.submitted_at.ToDatetime(tzinfo=UTC)


def _ms(delta: timedelta) -> float:
    return round(delta.total_seconds() * 1000, 3)
