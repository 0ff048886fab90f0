"""The worker's per-message logic, with an in-memory store and a scripted classifier."""

from datetime import UTC, datetime

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from contracts.results import FailureCode, Prediction, TaskRecord, TaskStatus
from contracts.task_pb2 import TaskMessage
from worker.classifier import Classification
from worker.preprocess import UndecodableImageError
from worker.processor import Delivery, Outcome, TaskProcessor


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
        )


class MemoryStore:
    def __init__(self) -> None:
        self.records: dict[str, TaskRecord] = {}

    def get(self, task_id: str) -> TaskRecord | None:
        return self.records.get(task_id)

    def put(self, record: TaskRecord) -> None:
        self.records[record.task_id] = record


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


def _processor(classifier: ScriptedClassifier, store: MemoryStore) -> TaskProcessor:
    return TaskProcessor(classifier, store, max_attempts=5)


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


def test_a_redelivered_task_with_a_result_is_not_run_again() -> None:
    store, classifier = MemoryStore(), ScriptedClassifier()
    processor = _processor(classifier, store)
    processor.handle(Delivery(_message(), 0))
    assert processor.handle(Delivery(_message(), 1)) is Outcome.ALREADY_DONE
    assert classifier.calls == 1


def test_an_undecodable_image_fails_terminally() -> None:
    store = MemoryStore()
    classifier = ScriptedClassifier(error=UndecodableImageError("truncated"))
    _processor(classifier, store).handle(Delivery(_message(), 0))
    record = store.records["t-1"]
    assert record.status is TaskStatus.FAILED
    assert record.error is not None and record.error.code is FailureCode.UNDECODABLE_IMAGE
    assert "truncated" in record.error.message


def test_a_task_that_keeps_killing_workers_fails_without_running_the_model() -> None:
    store, classifier = MemoryStore(), ScriptedClassifier()
    _processor(classifier, store).handle(Delivery(_message(), delivery_count=4))
    record = store.records["t-1"]
    assert record.status is TaskStatus.FAILED
    assert record.error is not None and record.error.code is FailureCode.DELIVERY_LIMIT_EXCEEDED
    assert classifier.calls == 0


def test_an_unknown_model_fails() -> None:
    store = MemoryStore()
    _processor(ScriptedClassifier(), store).handle(Delivery(_message(model="resnet-9000"), 0))
    record = store.records["t-1"]
    assert record.error is not None and record.error.code is FailureCode.UNKNOWN_MODEL


@pytest.mark.parametrize(
    "body", [b"\xff\xff\xff garbage", TaskMessage(task_id="x").SerializeToString()]
)
def test_unreadable_messages_are_dropped(body: bytes) -> None:
    store = MemoryStore()
    assert _processor(ScriptedClassifier(), store).handle(Delivery(body, 0)) is Outcome.DROPPED
    assert store.records == {}


def test_store_errors_propagate_so_the_message_is_not_acked() -> None:
    class BrokenStore(MemoryStore):
        def put(self, record: TaskRecord) -> None:
            raise ConnectionError("redis down")

    with pytest.raises(ConnectionError):
        _processor(ScriptedClassifier(), BrokenStore()).handle(Delivery(_message(), 0))
