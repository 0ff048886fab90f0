"""The processor tells its observers (metrics, push) about finished tasks; a failing observer
never changes the task's outcome."""

import pytest

from contracts.results import TaskRecord, TaskStatus
from contracts.task_pb2 import TaskMessage
from tests.unit.worker.test_processor import (
    MemoryImages,
    MemoryStore,
    OneModel,
    ScriptedClassifier,
    _message,
)
from worker.inference.preprocess import UndecodableImageError
from worker.metrics import WorkerMetrics
from worker.processor import Delivery, Outcome, TaskProcessor


class RecordingObserver:
    def __init__(self) -> None:
        self.finished: list[tuple[str, TaskStatus]] = []

    def task_finished(self, task: TaskMessage, record: TaskRecord) -> None:
        self.finished.append((task.task_id, record.status))


class BrokenObserver:
    def task_finished(self, task: TaskMessage, record: TaskRecord) -> None:
        raise RuntimeError("observer bug")


def test_observers_hear_of_each_stored_result_once() -> None:
    observer = RecordingObserver()
    processor = TaskProcessor(
        OneModel(ScriptedClassifier()),
        MemoryStore(),
        MemoryImages(),
        delivery_limit=5,
        observers=[observer],
    )
    processor.handle(Delivery(_message("t-1"), 0))
    processor.handle(Delivery(_message("t-1"), 1))  # redelivery: no second notification
    assert observer.finished == [("t-1", TaskStatus.DONE)]


def test_a_failing_observer_does_not_change_the_stored_result() -> None:
    store = MemoryStore()
    recorder = RecordingObserver()
    processor = TaskProcessor(
        OneModel(ScriptedClassifier()),
        store,
        MemoryImages(),
        delivery_limit=5,
        observers=[BrokenObserver(), recorder],
    )
    assert processor.handle(Delivery(_message("t-2"), 0)) is Outcome.STORED
    assert store.records["t-2"].status is TaskStatus.DONE
    assert recorder.finished == [("t-2", TaskStatus.DONE)]


def _sample(metrics: WorkerMetrics, name: str, labels: dict[str, str] | None = None) -> float:
    value = metrics.registry.get_sample_value(name, labels or {})
    return 0.0 if value is None else value


def test_worker_metrics_count_statuses_and_observe_stage_timings() -> None:
    metrics = WorkerMetrics()
    ok = TaskProcessor(
        OneModel(ScriptedClassifier()),
        MemoryStore(),
        MemoryImages(),
        delivery_limit=5,
        observers=[metrics],
    )
    bad = TaskProcessor(
        OneModel(ScriptedClassifier(UndecodableImageError("truncated"))),
        MemoryStore(),
        MemoryImages(),
        delivery_limit=5,
        observers=[metrics],
    )
    ok.handle(Delivery(_message("a"), 0))
    ok.handle(Delivery(_message("b"), 0))
    bad.handle(Delivery(_message("c"), 0))

    lite0 = {"model": "efficientnet-lite0"}
    assert _sample(metrics, "snapmatch_worker_tasks_total", {"status": "done"} | lite0) == 2
    assert _sample(metrics, "snapmatch_worker_tasks_total", {"status": "failed"} | lite0) == 1
    assert (
        _sample(metrics, "snapmatch_worker_task_failures_total", {"code": "undecodable_image"}) == 1
    )
    assert _sample(metrics, "snapmatch_worker_inference_seconds_count", lite0) == 2
    assert _sample(metrics, "snapmatch_worker_inference_seconds_sum", lite0) == pytest.approx(
        0.008
    )  # 2 x 4 ms
    assert _sample(metrics, "snapmatch_worker_preprocess_seconds_sum", lite0) == pytest.approx(
        0.006
    )
    assert _sample(metrics, "snapmatch_worker_queue_wait_seconds_count") == 2


def test_worker_metrics_follow_the_model_cache() -> None:
    metrics = WorkerMetrics()
    metrics.model_requested("efficientnet-lite2", hit=False)
    metrics.model_loaded("efficientnet-lite2", "c25634e50f26", 0.4)
    metrics.model_requested("efficientnet-lite2", hit=True)
    metrics.model_load_failed("efficientnet-lite1", "a0907bcb2790")
    loaded = {"model": "efficientnet-lite2", "version": "c25634e50f26"}
    assert _sample(metrics, "snapmatch_worker_model_loaded", loaded) == 1
    lite2 = {"model": "efficientnet-lite2"}
    assert _sample(metrics, "snapmatch_worker_model_requests_total", lite2 | {"cache": "miss"}) == 1
    assert _sample(metrics, "snapmatch_worker_model_requests_total", lite2 | {"cache": "hit"}) == 1
    assert _sample(metrics, "snapmatch_worker_model_load_seconds_sum", lite2) == pytest.approx(0.4)
    failed = {"model": "efficientnet-lite1", "outcome": "failed"}
    assert _sample(metrics, "snapmatch_worker_model_loads_total", failed) == 1
    metrics.model_unloaded("efficientnet-lite2", "c25634e50f26")
    assert metrics.registry.get_sample_value("snapmatch_worker_model_loaded", loaded) is None
