"""The worker's Prometheus metrics, served on a port of its own (one per worker process).

The processor reports to ``WorkerMetrics`` through its observer hooks; nothing here knows
about RabbitMQ. Timings come from the stored record, so the numbers a client sees in
``timings`` and the histograms agree.
"""

from threading import Thread
from wsgiref.simple_server import WSGIServer

import structlog
from prometheus_client import (
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
    start_http_server,
)
from redis.exceptions import RedisError

from contracts.results import TaskRecord
from contracts.task_pb2 import TaskMessage
from worker.processor import ResultStore

logger = structlog.stdlib.get_logger(__name__)

# No `*_created` series: they double the exposition and dashboards do not use them.
disable_created_metrics()  # type: ignore[no-untyped-call]

_STAGE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
_QUEUE_WAIT_BUCKETS = (0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64)
_LOAD_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# The `model` label of a task that named no model the worker knows (bounded: no client text).
NO_MODEL = "none"


class WorkerMetrics:
    """All worker series, in a registry of their own (tests build several per process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        if PROCESS_COLLECTOR is not None:  # CPU and memory of this worker process (Linux)
            ProcessCollector(registry=self.registry)
        self.tasks = Counter(
            "snapmatch_worker_tasks_total",
            "Tasks this worker finished and stored, by terminal status (done or failed) and "
            "the model that ran.",
            ["status", "model"],
            registry=self.registry,
        )
        self.task_failures = Counter(
            "snapmatch_worker_task_failures_total",
            "Failed tasks by failure code (undecodable_image, image_too_large, ...).",
            ["code"],
            registry=self.registry,
        )
        self.queue_wait = Histogram(
            "snapmatch_worker_queue_wait_seconds",
            "From the gateway accepting a task to this worker starting it.",
            buckets=_QUEUE_WAIT_BUCKETS,
            registry=self.registry,
        )
        self.preprocess = Histogram(
            "snapmatch_worker_preprocess_seconds",
            "Decode, orient, resize, crop and normalise one image, by model (input sizes differ).",
            ["model"],
            buckets=_STAGE_BUCKETS,
            registry=self.registry,
        )
        self.inference = Histogram(
            "snapmatch_worker_inference_seconds",
            "The model's forward pass for one image, by model.",
            ["model"],
            buckets=_STAGE_BUCKETS,
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "snapmatch_worker_batch_size",
            "Images per forward pass.",
            buckets=_BATCH_BUCKETS,
            registry=self.registry,
        )
        self.push = Counter(
            "snapmatch_worker_push_notifications_total",
            "FCM result notifications, by outcome (sent or failed).",
            ["outcome"],
            registry=self.registry,
        )
        self.result_store_errors = Counter(
            "snapmatch_worker_result_store_errors_total",
            "Result reads and writes that failed because Redis did not answer; the task is "
            "held and retried.",
            registry=self.registry,
        )
        self.models_loaded = Gauge(
            "snapmatch_worker_model_loaded",
            "1 for each model version this worker holds in memory.",
            ["model", "version"],
            registry=self.registry,
        )
        self.model_requests = Counter(
            "snapmatch_worker_model_requests_total",
            "Tasks asking for a model, by whether it was already loaded (hit) or not (miss).",
            ["model", "cache"],
            registry=self.registry,
        )
        self.model_loads = Counter(
            "snapmatch_worker_model_loads_total",
            "Model loads, by outcome (loaded or failed).",
            ["model", "outcome"],
            registry=self.registry,
        )
        self.model_load_seconds = Histogram(
            "snapmatch_worker_model_load_seconds",
            "Reading, checking, loading and warming up one model.",
            ["model"],
            buckets=_LOAD_BUCKETS,
            registry=self.registry,
        )

    # --- observer hooks (see worker.processor.TaskObserver) --------------------------------
    def batch_started(self, size: int) -> None:
        self.batch_size.observe(size)

    def task_finished(self, task: TaskMessage, record: TaskRecord) -> None:
        model = record.model.name if record.model is not None else NO_MODEL
        self.tasks.labels(record.status.value, model).inc()
        if record.error is not None:
            self.task_failures.labels(record.error.code.value).inc()
        if record.timings is not None:
            self.queue_wait.observe(record.timings.queued_ms / 1000)
            self.preprocess.labels(model).observe(record.timings.preprocess_ms / 1000)
            self.inference.labels(model).observe(record.timings.inference_ms / 1000)

    # --- model cache hooks (see worker.inference.cache.CacheObserver) ------------------------
    def model_requested(self, name: str, *, hit: bool) -> None:
        self.model_requests.labels(name, "hit" if hit else "miss").inc()

    def model_loaded(self, name: str, version: str, seconds: float) -> None:
        self.model_loads.labels(name, "loaded").inc()
        self.model_load_seconds.labels(name).observe(seconds)
        self.models_loaded.labels(name, version).set(1)

    def model_load_failed(self, name: str, version: str) -> None:
        self.model_loads.labels(name, "failed").inc()

    def model_unloaded(self, name: str, version: str) -> None:
        self.models_loaded.remove(name, version)


class CountedResultStore:
    """A ``ResultStore`` whose Redis failures are counted (and still raised)."""

    def __init__(self, store: ResultStore, metrics: WorkerMetrics) -> None:
        self._store = store
        self._errors = metrics.result_store_errors

    def get(self, task_id: str) -> TaskRecord | None:
        with self._errors.count_exceptions(RedisError):
            return self._store.get(task_id)

    def is_cancelled(self, task_id: str) -> bool:
        with self._errors.count_exceptions(RedisError):
            return self._store.is_cancelled(task_id)

    def put(self, record: TaskRecord) -> bool:
        with self._errors.count_exceptions(RedisError):
            return self._store.put(record)

    def ensure_replicated(self, record: TaskRecord) -> None:
        with self._errors.count_exceptions(RedisError):  # a replica wait that timed out too
            self._store.ensure_replicated(record)


def serve_metrics(
    metrics: WorkerMetrics, *, host: str, port: int
) -> tuple[WSGIServer, Thread] | None:
    """Serve ``/metrics`` on a daemon thread; port 0 means disabled. A port already taken is
    logged, not fatal: classifying matters more than being scraped."""
    if port == 0:
        logger.info("metrics endpoint disabled", worker_metrics_port=0)
        return None
    try:
        server, thread = start_http_server(port, addr=host, registry=metrics.registry)
    except OSError as exc:
        logger.error(
            "cannot serve metrics; give each worker its own SNAPMATCH_WORKER_METRICS_PORT",
            host=host,
            port=port,
            error=str(exc),
        )
        return None
    logger.info("metrics served", url=f"http://{host}:{port}/metrics")
    return server, thread
