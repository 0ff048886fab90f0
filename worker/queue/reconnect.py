"""Keep a worker consuming through broker restarts: reconnect after a growing, capped wait.

Apart from the consumer, as in pika's asynchronous consumer example: the consumer knows one
connection; this loop knows that connections end.
"""

import pika.exceptions
import structlog

from contracts.queue import queue_mismatch_hint
from worker.queue.consumer import TaskConsumer, is_precondition_failed

logger = structlog.stdlib.get_logger(__name__)

_FIRST_WAIT_SECONDS = 1.0
_MAX_WAIT_SECONDS = 30.0


class QueueMismatchError(Exception):
    """The queue exists with other arguments; an operator must re-create it."""


class ReconnectingConsumer:
    def __init__(self, consumer: TaskConsumer, *, queue: str) -> None:
        self._consumer = consumer
        self._queue = queue

    def run(self) -> None:
        """Consume until ``stop()``. Raises QueueMismatchError when the queue must be migrated
        first; any other broker error means "reconnect"."""
        failures = 0
        try:
            while not self._consumer.stopping.is_set():
                try:
                    self._consumer.consume()
                    failures = 0
                except pika.exceptions.AMQPError as exc:
                    if is_precondition_failed(exc):
                        raise QueueMismatchError(
                            f"{queue_mismatch_hint(self._queue)} ({exc})"
                        ) from exc
                    if self._consumer.stopping.is_set():
                        break
                    wait = min(_MAX_WAIT_SECONDS, _FIRST_WAIT_SECONDS * 2**failures)
                    failures += 1
                    logger.warning(
                        "RabbitMQ connection lost; reconnecting", error=repr(exc), wait_s=wait
                    )
                    self._consumer.stopping.wait(wait)
        finally:
            self._consumer.close()
        logger.info("worker stopped")

    def stop(self) -> None:
        """Finish the held tasks and return from ``run()``. Signal-safe."""
        self._consumer.stop()
