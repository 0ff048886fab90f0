"""Keep a worker consuming through broker restarts and lost cluster nodes.

Apart from the consumer, as in pika's asynchronous consumer example: the consumer knows one
connection; this loop knows that connections end. When one is refused or lost it moves on to
the next configured node at once (``config.brokers``); only after every node has failed does it
wait, a growing and capped time, before the next round.
"""

import threading
from collections.abc import Callable
from typing import Protocol

import pika.exceptions
import structlog

from config.brokers import BrokerAddresses
from contracts.queue import queue_mismatch_hint
from worker.queue.consumer import is_precondition_failed

logger = structlog.stdlib.get_logger(__name__)

_FIRST_WAIT_SECONDS = 1.0
_MAX_WAIT_SECONDS = 30.0


class QueueMismatchError(Exception):
    """The queue exists with other arguments; an operator must re-create it."""


class Consumer(Protocol):
    """What this loop needs of ``worker.queue.consumer.TaskConsumer``."""

    @property
    def stopping(self) -> threading.Event: ...

    def consume(self, url: str, *, on_connected: Callable[[], None]) -> None: ...

    def stop(self) -> None: ...

    def close(self) -> None: ...


class ReconnectingConsumer:
    def __init__(self, consumer: Consumer, *, queue: str, addresses: BrokerAddresses) -> None:
        self._consumer = consumer
        self._queue = queue
        self._addresses = addresses

    def run(self) -> None:
        """Consume until ``stop()``. Raises QueueMismatchError when the queue must be migrated
        first; any other broker error means "reconnect"."""
        try:
            while not self._consumer.stopping.is_set():
                node = self._addresses.current_node
                try:
                    self._consumer.consume(
                        self._addresses.current, on_connected=self._addresses.connected
                    )
                except pika.exceptions.AMQPError as exc:
                    if is_precondition_failed(exc):
                        raise QueueMismatchError(
                            f"{queue_mismatch_hint(self._queue)} ({exc})"
                        ) from exc
                    if self._consumer.stopping.is_set():
                        break
                    self._move_on(node, exc)
        finally:
            self._consumer.close()
        logger.info("worker stopped")

    def _move_on(self, node: str, exc: pika.exceptions.AMQPError) -> None:
        """After ``node`` failed: the next node at once, or a wait once all of them failed."""
        rounds = self._addresses.failed()
        if rounds == 0:
            logger.warning(
                "RabbitMQ node unavailable; reconnecting to the next",
                node=node,
                next_node=self._addresses.current_node,
                error=repr(exc),
            )
            return
        wait = min(_MAX_WAIT_SECONDS, _FIRST_WAIT_SECONDS * 2 ** (rounds - 1))
        logger.warning(
            "RabbitMQ connection lost; reconnecting", node=node, error=repr(exc), wait_s=wait
        )
        self._consumer.stopping.wait(wait)

    def stop(self) -> None:
        """Finish the held tasks and return from ``run()``. Signal-safe."""
        self._consumer.stop()
