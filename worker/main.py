"""Worker entry point: load and warm the model once, then consume until SIGTERM/SIGINT."""

import contextlib
import logging
import signal
import sys
from types import FrameType

import structlog

from config import Settings, get_settings
from config.brokers import BrokerAddresses
from config.structured_logging import configure_logging
from worker.inference.batching import MicroBatcher
from worker.inference.classifier import Classifier
from worker.metrics import WorkerMetrics, serve_metrics
from worker.processor import ImageClassifier, TaskObserver, TaskProcessor
from worker.push import PushNotifier, push_app
from worker.queue.consumer import TaskConsumer
from worker.queue.reconnect import QueueMismatchError, ReconnectingConsumer
from worker.result_writer import ResultWriter

logger = structlog.stdlib.get_logger("worker")


def main() -> int:
    settings = get_settings()
    configure_logging(settings.log_level, process="worker")
    # pika narrates every connection step at INFO; its warnings and errors still show.
    logging.getLogger("pika").setLevel(logging.WARNING)
    if not settings.model_path.is_file():
        logger.error("model not found; build it with `make model`", path=str(settings.model_path))
        return 2
    with contextlib.ExitStack() as cleanup:
        metrics = WorkerMetrics()
        model = _load_model(settings, metrics, cleanup)
        server = serve_metrics(
            metrics, host=settings.worker_metrics_host, port=settings.worker_metrics_port
        )
        if server is not None:
            cleanup.callback(server[0].shutdown)
        writer = ResultWriter(settings)
        cleanup.callback(writer.close)
        processor = TaskProcessor(
            model,
            writer,
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


def _load_model(
    settings: Settings, metrics: WorkerMetrics, cleanup: contextlib.ExitStack
) -> ImageClassifier:
    """The model, loaded and warmed up once; behind a micro-batcher when batching is on."""
    classifier = Classifier(
        settings.model_path,
        intra_op_threads=settings.worker_inference_threads,
        top_k=settings.top_k,
        max_pixels=settings.max_image_pixels,
        provider=settings.worker_execution_provider,
        on_batch=metrics.batch_started,
    )
    classifier.warm_up()
    metrics.set_model(classifier.name, classifier.version)
    logger.info(
        "model loaded",
        model=classifier.name,
        version=classifier.version,
        path=str(settings.model_path),
    )
    if settings.worker_batch_max_size == 1:
        return classifier
    batcher = MicroBatcher(
        classifier,
        max_size=settings.worker_batch_max_size,
        max_wait_s=settings.worker_batch_max_wait_ms / 1000.0,
    )
    cleanup.callback(batcher.close)
    logger.info(
        "micro-batching",
        max_images=settings.worker_batch_max_size,
        max_wait_ms=settings.worker_batch_max_wait_ms,
    )
    return batcher


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
