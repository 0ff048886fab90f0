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
    Histogram,
    Info,
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


class WorkerMetrics:
    """All worker series, in a registry of their own (tests build several per process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        if PROCESS_COLLECTOR is not None:  # CPU and memory of this worker process (Linux)
            ProcessCollector(registry=self.registry)
        self.tasks = Counter(
            "snapmatch_worker_tasks_total",
            "Tasks this worker finished and stored, by terminal status (done or failed).",
            ["status"],
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
            "Decode, orient, resize, crop and normalise one image.",
            buckets=_STAGE_BUCKETS,
            registry=self.registry,
        )
        self.inference = Histogram(
            "snapmatch_worker_inference_seconds",
            "The model's forward pass for one image.",
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
        self.model = Info(
            "snapmatch_worker_model",
            "The model this worker serves (constant 1, labelled with name and version).",
            registry=self.registry,
        )

    # --- observer hooks (see worker.processor.TaskObserver) --------------------------------
    def batch_started(self, size: int) -> None:
        self.batch_size.observe(size)

    def task_finished(self, task: TaskMessage, record: TaskRecord) -> None:
        self.tasks.labels(record.status.value).inc()
        if record.error is not None:
            self.task_failures.labels(record.error.code.value).inc()
        if record.timings is not None:
            self.queue_wait.observe(record.timings.queued_ms / 1000)
            self.preprocess.observe(record.timings.preprocess_ms / 1000)
            self.inference.observe(record.timings.inference_ms / 1000)

    def set_model(self, name: str, version: str) -> None:
        self.model.info({"name": name, "version": version})


class CountedResultStore:
    """A ``ResultStore`` whose Redis failures are counted (and still raised)."""

    def __init__(self, store: ResultStore, metrics: WorkerMetrics) -> None:
        self._store = store
        self._errors = metrics.result_store_errors

    def get(self, task_id: str) -> TaskRecord | None:
        with self._errors.count_exceptions(RedisError):
            return self._store.get(task_id)

    def put(self, record: TaskRecord) -> None:
        with self._errors.count_exceptions(RedisError):
            self._store.put(record)


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
