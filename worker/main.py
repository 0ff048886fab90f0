"""Worker entry point: load and warm the model once, then consume until SIGTERM/SIGINT."""

import logging
import signal
import sys
from types import FrameType

from config import get_settings
from config.structured_logging import configure_logging
from worker.batching import MicroBatcher
from worker.classifier import Classifier
from worker.consumer import QueueMismatchError, TaskConsumer
from worker.metrics import WorkerMetrics, serve_metrics
from worker.processor import TaskObserver, TaskProcessor
from worker.push import PushNotifier, firebase_messaging_app
from worker.result_writer import ResultWriter

logger = logging.getLogger("worker")


def main() -> int:
    settings = get_settings()
    configure_logging(settings.log_level, process="worker")
    # pika narrates every connection step at INFO; its warnings and errors still show.
    logging.getLogger("pika").setLevel(logging.WARNING)
    if not settings.model_path.is_file():
        logger.error("model not found at %s; build it with `make model`", settings.model_path)
        return 2
    metrics = WorkerMetrics()
    classifier = Classifier(
        settings.model_path,
        intra_op_threads=settings.worker_inference_threads,
        top_k=settings.top_k,
        max_pixels=settings.max_image_pixels,
        provider=settings.worker_execution_provider,
        on_batch=metrics.batch_started,
    )
    classifier.warm_up()
    logger.info(
        "model %s (%s) loaded from %s", classifier.name, classifier.version, settings.model_path
    )
    batcher: MicroBatcher | None = None
    if settings.worker_batch_max_size > 1:
        batcher = MicroBatcher(
            classifier,
            max_size=settings.worker_batch_max_size,
            max_wait_s=settings.worker_batch_max_wait_ms / 1000.0,
        )
        logger.info(
            "micro-batching up to %d images, waiting at most %.1f ms",
            settings.worker_batch_max_size,
            settings.worker_batch_max_wait_ms,
        )

    metrics.set_model(classifier.name, classifier.version)
    metrics_server = serve_metrics(
        metrics, host=settings.worker_metrics_host, port=settings.worker_metrics_port
    )
    observers: list[TaskObserver] = [metrics]
    notifier = None
    if settings.push_notifications:
        notifier = PushNotifier(firebase_messaging_app(settings), metrics)
        observers.append(notifier)
        logger.info("push notifications enabled")

    writer = ResultWriter(settings)
    processor = TaskProcessor(
        batcher or classifier,
        writer,
        delivery_limit=settings.queue_delivery_limit,
        observers=observers,
    )
    consumer = TaskConsumer(settings, processor)

    def request_stop(signum: int, frame: FrameType | None) -> None:
        logger.info("%s received: finishing held tasks", signal.Signals(signum).name)
        consumer.stop()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        consumer.run()
    except QueueMismatchError as exc:
        logger.error("%s", exc)
        return 3
    finally:
        if batcher is not None:
            batcher.close()
        writer.close()
        if notifier is not None:
            notifier.close()
        if metrics_server is not None:
            metrics_server[0].shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
