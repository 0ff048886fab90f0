"""Worker entry point: read the model registry, preload and warm the default model (and
``worker_preload_models``), then consume until SIGTERM/SIGINT while a watcher thread follows
the registry."""

import contextlib
import logging
import signal
import sys
import threading
from types import FrameType

import structlog

from config import Settings, get_settings
from config.brokers import BrokerAddresses
from config.object_store import ObjectStore
from config.structured_logging import configure_logging
from config.tracing import add_trace_ids, configure_tracing
from contracts.model_registry import ManifestReader, ModelEntry, RegistryError
from worker.images import TaskImages
from worker.inference.batching import MicroBatcher
from worker.inference.cache import LoadedModel, ModelCache
from worker.inference.classifier import Classifier
from worker.inference.registry import ModelRegistry, UnknownModelError, model_loader
from worker.metrics import CountedResultStore, WorkerMetrics, serve_metrics
from worker.processor import TaskObserver, TaskProcessor
from worker.push import PushNotifier, push_app
from worker.queue.consumer import TaskConsumer
from worker.queue.reconnect import QueueMismatchError, ReconnectingConsumer
from worker.queue.socket_reads import read_larger_chunks
from worker.result_writer import ResultWriter

logger = structlog.stdlib.get_logger("worker")


def main() -> int:
    settings = get_settings()
    tracing = configure_tracing(settings, service_name="snapmatch-worker")
    configure_logging(
        settings.log_level, process="worker", processors=[add_trace_ids] if tracing else []
    )
    # pika narrates every connection step at INFO; its warnings and errors still show.
    logging.getLogger("pika").setLevel(logging.WARNING)
    read_larger_chunks()
    with contextlib.ExitStack() as cleanup:
        if tracing is not None:
            cleanup.callback(tracing.shutdown)  # last: sends the spans still batched
        metrics = WorkerMetrics()
        try:
            models = _model_registry(settings, metrics, cleanup)
        except (RegistryError, UnknownModelError) as exc:
            logger.error("no models to serve", reason=str(exc))
            return 2
        server = serve_metrics(
            metrics, host=settings.worker_metrics_host, port=settings.worker_metrics_port
        )
        if server is not None:
            cleanup.callback(server[0].shutdown)
        writer = ResultWriter(settings)
        cleanup.callback(writer.close)
        processor = TaskProcessor(
            models,
            CountedResultStore(writer, metrics),
            TaskImages(ObjectStore(settings)),
            delivery_limit=settings.queue_delivery_limit,
            observers=_observers(settings, metrics, cleanup),
        )
        consumer = ReconnectingConsumer(
            TaskConsumer(settings, processor),
            queue=settings.task_queue,
            addresses=BrokerAddresses(settings.broker_urls),
        )
        _stop_on_signals(consumer)
        try:
            consumer.run()
        except QueueMismatchError as exc:
            logger.error("queue arguments differ", hint=str(exc))
            return 3
    return 0


def _model_registry(
    settings: Settings, metrics: WorkerMetrics, cleanup: contextlib.ExitStack
) -> ModelRegistry:
    """The registry's models behind an LRU cache; the preloaded ones warm; a watcher thread
    that adopts a republished manifest within ``model_registry_poll_seconds``."""

    def build(entry: ModelEntry, data: bytes) -> LoadedModel:
        classifier = Classifier(
            entry,
            data,
            intra_op_threads=settings.worker_inference_threads,
            spinning=settings.worker_inference_spinning,
            top_k=settings.top_k,
            max_pixels=settings.max_image_pixels,
            provider=settings.worker_execution_provider,
            on_batch=metrics.batch_started,
        )
        classifier.warm_up()
        if settings.worker_batch_max_size == 1:
            return LoadedModel(classifier)
        batcher = MicroBatcher(
            classifier,
            max_size=settings.worker_batch_max_size,
            max_wait_s=settings.worker_batch_max_wait_ms / 1000.0,
        )
        return LoadedModel(batcher, batcher.close)

    cache = ModelCache(
        model_loader(settings.model_registry, build),
        max_models=settings.worker_max_models,
        observer=metrics,
    )
    cleanup.callback(cache.close)
    registry = ModelRegistry(
        ManifestReader(settings.model_registry), cache, default=settings.default_model
    )
    registry.preload(settings.worker_preload_models)
    logger.info(
        "models ready",
        registry=str(settings.model_registry),
        default=registry.default_entry().name,
        loaded=[f"{name}@{version}" for name, version in cache.loaded()],
        max_models=settings.worker_max_models,
    )
    if settings.worker_batch_max_size > 1:
        logger.info(
            "micro-batching",
            max_images=settings.worker_batch_max_size,
            max_wait_ms=settings.worker_batch_max_wait_ms,
        )
    stop_watching = threading.Event()
    registry.watch(stop_watching, settings.model_registry_poll_seconds)
    cleanup.callback(stop_watching.set)
    return registry


def _observers(
    settings: Settings, metrics: WorkerMetrics, cleanup: contextlib.ExitStack
) -> list[TaskObserver]:
    observers: list[TaskObserver] = [metrics]
    if settings.push_notifications:
        notifier = PushNotifier(push_app(settings), metrics)
        cleanup.callback(notifier.close)
        observers.append(notifier)
        logger.info("push notifications enabled")
    return observers


def _stop_on_signals(consumer: ReconnectingConsumer) -> None:
    def request_stop(signum: int, frame: FrameType | None) -> None:
        logger.info("finishing held tasks", signal=signal.Signals(signum).name)
        consumer.stop()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)


if __name__ == "__main__":
    sys.exit(main())
