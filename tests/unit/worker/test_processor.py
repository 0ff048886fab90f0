"""The worker's per-message logic, with an in-memory store and a scripted classifier."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from PIL import Image

from config.object_store import ObjectNotFoundError, ObjectStoreUnavailableError
from contracts.results import FailureCode, Prediction, StoredImages, TaskRecord, TaskStatus
from contracts.task_pb2 import TaskMessage
from tests.support.tiny_models import model_entry
from worker.inference.cache import ModelUnavailableError
from worker.inference.classifier import Classification
from worker.inference.preprocess import UndecodableImageError
from worker.inference.registry import UnknownModelError
from worker.processor import Delivery, ImageClassifier, Outcome, TaskProcessor


class ScriptedClassifier:
    name = "efficientnet-lite0"
    version = "0123456789ab"

    def __init__(self, error: Exception | None = None) -> None:
        self.calls = 0
        self.error = error

    def classify(self, data: bytes) -> Classification:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return Classification(
            predictions=[Prediction(class_id=967, label="espresso", confidence=0.75)],
            preprocess_ms=3.0,
            inference_ms=4.0,
            model_input=Image.new("RGB", (224, 224), (40, 20, 10)),
        )


class OneModel:
    """A ModelProvider serving one classifier, under its name and as the default; or, with
    ``unavailable``, failing to load it."""

    def __init__(self, classifier: ImageClassifier, *, unavailable: str | None = None) -> None:
        self.classifier = classifier
        self.unavailable = unavailable
        self.requested: list[str] = []

    @contextmanager
    def lease(self, requested: str) -> Iterator[ImageClassifier]:
        self.requested.append(requested)
        name = self.classifier.name
        if requested not in ("", name):
            raise UnknownModelError(requested, [name])
        if self.unavailable is not None:
            raise ModelUnavailableError(
                model_entry(name, self.classifier.version), self.unavailable
            )
        yield self.classifier


class MemoryImages:
    """The photo bucket as a dict; ``down`` makes every call fail like an unreachable store."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.down = False

    def photo(self, task: TaskMessage) -> bytes:
        if self.down:
            raise ObjectStoreUnavailableError("connection refused")
        if task.WhichOneof("image_source") == "image_key":
            if task.image_key not in self.objects:
                raise ObjectNotFoundError(task.image_key)
            return self.objects[task.image_key]
        return task.image

    def stored_by_gateway(self, task: TaskMessage) -> StoredImages | None:
        return (
            StoredImages(original_key=f"{task.task_id}/original") if task.original_stored else None
        )

    def keep(
        self, task: TaskMessage, photo: bytes, model_input: Image.Image | None
    ) -> StoredImages:
        if self.down:
            raise ObjectStoreUnavailableError("connection refused")
        original = f"{task.task_id}/original"
        self.objects[original] = photo
        if model_input is None:
            return StoredImages(original_key=original)
        processed = f"{task.task_id}/processed.png"
        self.objects[processed] = model_input.tobytes()
        return StoredImages(original_key=original, processed_key=processed)


class MemoryStore:
    def __init__(self) -> None:
        self.records: dict[str, TaskRecord] = {}
        self.confirmed: list[str] = []  # task ids whose existing record had to be confirmed
        self.cancelled: set[str] = set()

    def get(self, task_id: str) -> TaskRecord | None:
        return self.records.get(task_id)

    def is_cancelled(self, task_id: str) -> bool:
        return task_id in self.cancelled

    def put(self, record: TaskRecord) -> bool:
        if record.task_id in self.cancelled:
            return False
        self.records[record.task_id] = record
        return True

    def ensure_replicated(self, record: TaskRecord) -> None:
        self.confirmed.append(record.task_id)


def _message(task_id: str = "t-1", model: str = "") -> bytes:
    submitted = Timestamp()
    submitted.FromDatetime(datetime(2026, 1, 1, tzinfo=UTC))
    return TaskMessage(
        task_id=task_id,
        owner_uid="alice",
        image=b"jpeg",
        content_type="image/jpeg",
        submitted_at=submitted,
        model=model,
    ).SerializeToString()


LIMIT = 5  # deliveries 0..5 happen; the sixth return dead-letters the message


def _processor(classifier: ScriptedClassifier, store: MemoryStore) -> TaskProcessor:
    return TaskProcessor(OneModel(classifier), store, MemoryImages(), delivery_limit=LIMIT)


def test_a_task_is_classified_and_stored_as_done() -> None:
    store, classifier = MemoryStore(), ScriptedClassifier()
    assert _processor(classifier, store).handle(Delivery(_message(), 0)) is Outcome.STORED
    record = store.records["t-1"]
    assert record.status is TaskStatus.DONE
    assert record.owner_uid == "alice"
    assert [(p.class_id, p.label) for p in record.predictions] == [(967, "espresso")]
    assert record.model is not None and record.model.version == "0123456789ab"
    assert record.timings is not None and record.timings.inference_ms == 4.0
    assert record.submitted_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert record.attempts == 1


def test_a_first_delivery_does_not_look_for_an_earlier_result() -> None:
    class CountingStore(MemoryStore):
        def __init__(self) -> None:
            super().__init__()
            self.reads = 0

        def get(self, task_id: str) -> TaskRecord | None:
            self.reads += 1
            return super().get(task_id)

    store, classifier = CountingStore(), ScriptedClassifier()
    processor = _processor(classifier, store)
    assert processor.handle(Delivery(_message(), 0, redelivered=False)) is Outcome.STORED
    assert store.reads == 0
    assert processor.handle(Delivery(_message(), 0, redelivered=True)) is Outcome.ALREADY_DONE
    assert store.reads == 1
    assert classifier.calls == 1


def test_a_redelivered_task_with_a_result_is_not_run_again() -> None:
    store, classifier = MemoryStore(), ScriptedClassifier()
    processor = _processor(classifier, store)
    processor.handle(Delivery(_message(), 0))
    assert processor.handle(Delivery(_message(), 1)) is Outcome.ALREADY_DONE
    assert classifier.calls == 1


def test_a_redelivery_is_acked_only_once_the_existing_result_is_confirmed_replicated() -> None:
    class UnreplicatedStore(MemoryStore):
        def ensure_replicated(self, record: TaskRecord) -> None:
            raise ConnectionError("0 of 1 replicas confirmed the result")

    store, classifier = UnreplicatedStore(), ScriptedClassifier()
    processor = _processor(classifier, store)
    processor.handle(Delivery(_message(), 0))
    with pytest.raises(ConnectionError):
        processor.handle(Delivery(_message(), 1))
    with pytest.raises(ConnectionError):
        processor.handle_dead_letter(_message())
    assert classifier.calls == 1


def test_a_fresh_result_needs_no_separate_confirmation() -> None:
    store = MemoryStore()
    processor = _processor(ScriptedClassifier(), store)
    processor.handle(Delivery(_message(), 0))
    assert store.confirmed == []
    processor.handle(Delivery(_message(), 1))
    processor.handle_dead_letter(_message())
    assert store.confirmed == ["t-1", "t-1"]


def test_an_undecodable_image_fails_terminally() -> None:
    store = MemoryStore()
    classifier = ScriptedClassifier(error=UndecodableImageError("truncated"))
    _processor(classifier, store).handle(Delivery(_message(), 0))
    record = store.records["t-1"]
    assert record.status is TaskStatus.FAILED
    assert record.error is not None and record.error.code is FailureCode.UNDECODABLE_IMAGE
    assert "truncated" in record.error.message


def test_the_last_delivery_records_failed_before_running_the_model() -> None:
    store = MemoryStore()
    seen_while_running: list[TaskRecord | None] = []

    class Observing(ScriptedClassifier):
        def classify(self, data: bytes) -> Classification:
            seen_while_running.append(store.get("t-1"))
            return super().classify(data)

    processor = _processor(Observing(), store)
    assert processor.is_last_delivery(Delivery(_message(), LIMIT))
    assert not processor.is_last_delivery(Delivery(_message(), LIMIT - 1))
    processor.handle(Delivery(_message(), delivery_count=LIMIT))

    # Had the model killed the worker, the owner would have been left with this answer...
    [during] = seen_while_running
    assert during is not None and during.status is TaskStatus.FAILED
    assert during.error is not None and during.error.code is FailureCode.DELIVERY_LIMIT_EXCEEDED
    # ...but it succeeded, so the real result replaced it.
    record = store.records["t-1"]
    assert record.status is TaskStatus.DONE
    assert record.attempts == LIMIT + 1


def test_a_last_delivery_that_raises_leaves_the_failed_result() -> None:
    store = MemoryStore()
    processor = _processor(ScriptedClassifier(error=RuntimeError("onnxruntime blew up")), store)
    with pytest.raises(RuntimeError):
        processor.handle(Delivery(_message(), delivery_count=LIMIT))
    record = store.records["t-1"]
    assert record.status is TaskStatus.FAILED
    assert record.error is not None and record.error.code is FailureCode.DELIVERY_LIMIT_EXCEEDED


def test_earlier_deliveries_do_not_record_failed_first() -> None:
    store = MemoryStore()
    processor = _processor(ScriptedClassifier(error=RuntimeError("boom")), store)
    with pytest.raises(RuntimeError):
        processor.handle(Delivery(_message(), delivery_count=LIMIT - 1))
    assert store.records == {}


def test_a_dead_letter_without_a_result_becomes_failed() -> None:
    store, classifier = MemoryStore(), ScriptedClassifier()
    assert _processor(classifier, store).handle_dead_letter(_message()) is Outcome.STORED
    record = store.records["t-1"]
    assert record.status is TaskStatus.FAILED
    assert record.owner_uid == "alice"
    assert record.error is not None and record.error.code is FailureCode.DELIVERY_LIMIT_EXCEEDED
    assert record.attempts == LIMIT + 1
    assert classifier.calls == 0


def test_a_dead_letter_never_overwrites_a_result() -> None:
    store = MemoryStore()
    processor = _processor(ScriptedClassifier(), store)
    processor.handle(Delivery(_message(), 0))
    assert processor.handle_dead_letter(_message()) is Outcome.ALREADY_DONE
    assert store.records["t-1"].status is TaskStatus.DONE


def test_an_unreadable_dead_letter_is_dropped() -> None:
    store = MemoryStore()
    assert _processor(ScriptedClassifier(), store).handle_dead_letter(b"junk") is Outcome.DROPPED
    assert store.records == {}


def test_an_unknown_model_fails() -> None:
    store = MemoryStore()
    _processor(ScriptedClassifier(), store).handle(Delivery(_message(model="resnet-9000"), 0))
    record = store.records["t-1"]
    assert record.error is not None and record.error.code is FailureCode.UNKNOWN_MODEL
    assert "resnet-9000" in record.error.message and record.model is None


def test_the_task_runs_the_model_it_names_and_the_result_names_its_version() -> None:
    store, models = MemoryStore(), OneModel(ScriptedClassifier())
    TaskProcessor(models, store, MemoryImages(), delivery_limit=LIMIT).handle(
        Delivery(_message(model="efficientnet-lite0"), 0)
    )
    assert models.requested == ["efficientnet-lite0"]
    record = store.records["t-1"]
    assert record.model is not None
    assert (record.model.name, record.model.version) == ("efficientnet-lite0", "0123456789ab")


def test_a_model_that_cannot_load_fails_its_task_with_a_clear_code() -> None:
    store, classifier = MemoryStore(), ScriptedClassifier()
    models = OneModel(classifier, unavailable="onnxruntime: protobuf parsing failed")
    outcome = TaskProcessor(models, store, MemoryImages(), delivery_limit=LIMIT).handle(
        Delivery(_message(), 0)
    )
    assert outcome is Outcome.STORED
    record = store.records["t-1"]
    assert record.status is TaskStatus.FAILED
    assert record.error is not None and record.error.code is FailureCode.MODEL_UNAVAILABLE
    assert "protobuf parsing failed" in record.error.message
    assert record.model is not None and record.model.version == "0123456789ab"
    assert classifier.calls == 0


@pytest.mark.parametrize(
    "body", [b"\xff\xff\xff garbage", TaskMessage(task_id="x").SerializeToString()]
)
def test_unreadable_messages_are_dropped(body: bytes) -> None:
    store = MemoryStore()
    assert _processor(ScriptedClassifier(), store).handle(Delivery(body, 0)) is Outcome.DROPPED
    assert store.records == {}


def test_store_errors_propagate_so_the_message_is_not_acked() -> None:
    class BrokenStore(MemoryStore):
        def put(self, record: TaskRecord) -> bool:
            raise ConnectionError("redis down")

    with pytest.raises(ConnectionError):
        _processor(ScriptedClassifier(), BrokenStore()).handle(Delivery(_message(), 0))


# --- the photo bucket ------------------------------------------------------------------------


def _claim_checked(task_id: str = "t-9") -> bytes:
    task = TaskMessage.FromString(_message(task_id))
    task.image_key = f"{task_id}/original"  # replaces the inline bytes (one of the oneof)
    task.original_stored = True
    return task.SerializeToString()


def _with_images(images: MemoryImages) -> tuple[TaskProcessor, MemoryStore]:
    store = MemoryStore()
    processor = TaskProcessor(OneModel(ScriptedClassifier()), store, images, delivery_limit=LIMIT)
    return processor, store


def test_a_done_record_names_the_original_and_the_processed_image() -> None:
    images = MemoryImages()
    images.objects["t-9/original"] = b"jpeg bytes"
    processor, store = _with_images(images)
    assert processor.handle(Delivery(_claim_checked(), 0)) is Outcome.STORED
    record = store.records["t-9"]
    assert record.status is TaskStatus.DONE
    assert record.images == StoredImages(
        original_key="t-9/original", processed_key="t-9/processed.png"
    )
    assert len(images.objects["t-9/processed.png"]) == 224 * 224 * 3


def test_an_unreachable_store_returns_the_task_to_the_queue_before_its_last_delivery() -> None:
    images = MemoryImages()
    images.down = True
    processor, store = _with_images(images)
    with pytest.raises(ObjectStoreUnavailableError):
        processor.handle(Delivery(_claim_checked(), LIMIT - 1))
    assert "t-9" not in store.records


def test_an_unreachable_store_fails_the_task_on_its_last_delivery() -> None:
    images = MemoryImages()
    images.down = True
    processor, store = _with_images(images)
    assert processor.handle(Delivery(_claim_checked(), LIMIT)) is Outcome.STORED
    record = store.records["t-9"]
    assert record.status is TaskStatus.FAILED
    assert record.error is not None
    assert record.error.code is FailureCode.OBJECT_STORE_UNAVAILABLE
    assert record.images == StoredImages(original_key="t-9/original")


def test_a_photo_deleted_before_its_turn_fails_as_missing_without_retrying() -> None:
    processor, store = _with_images(MemoryImages())  # nothing stored under the key
    assert processor.handle(Delivery(_claim_checked(), 0)) is Outcome.STORED
    record = store.records["t-9"]
    assert record.error is not None
    assert record.error.code is FailureCode.IMAGE_MISSING
    assert record.images is None


def test_a_deleted_task_is_skipped_without_running_the_model() -> None:
    store, classifier = MemoryStore(), ScriptedClassifier()
    store.cancelled.add("t-1")
    outcome = _processor(classifier, store).handle(Delivery(_message(), 0))
    assert outcome is Outcome.CANCELLED
    assert classifier.calls == 0
    assert store.records == {}


def test_a_task_deleted_while_it_runs_keeps_no_result() -> None:
    class DeletedMeanwhile(MemoryStore):
        def put(self, record: TaskRecord) -> bool:
            self.cancelled.add(record.task_id)  # the owner's DELETE landed during inference
            return super().put(record)

    store, classifier = DeletedMeanwhile(), ScriptedClassifier()
    outcome = _processor(classifier, store).handle(Delivery(_message(), 0))
    assert outcome is Outcome.CANCELLED
    assert classifier.calls == 1
    assert store.records == {}
