"""RabbitMQ consumer after pika's threaded-consumer pattern.

The connection's thread only does network I/O (so heartbeats keep flowing during inference);
one processing thread runs the model; acks go back to the connection's thread through
``add_callback_threadsafe``, the one thread-safe call of a BlockingConnection.
"""

import contextlib
import functools
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel
from pika.spec import Basic, BasicProperties
from redis.exceptions import RedisError
from tenacity import Retrying, retry_if_exception_type, stop_when_event_set, wait_exponential

from config import Settings
from contracts.queue import task_queue_arguments
from worker.processor import Delivery, TaskProcessor

logger = logging.getLogger(__name__)

_HEARTBEAT_FILE_INTERVAL_SECONDS = 5.0
_MAX_RECONNECT_WAIT_SECONDS = 30.0


class TaskConsumer:
    def __init__(self, settings: Settings, processor: TaskProcessor) -> None:
        self._settings = settings
        self._processor = processor
        # One processing thread, or one per image a micro-batch can hold (worker.batching).
        self._executor = ThreadPoolExecutor(
            max_workers=settings.worker_batch_max_size, thread_name_prefix="inference"
        )
        self._stopping = threading.Event()
        self._connection: pika.BlockingConnection | None = None
        self._channel: BlockingChannel | None = None
        self._in_flight: set[Future[None]] = set()

    # --- lifecycle ------------------------------------------------------------------------
    def run(self) -> None:
        """Consume until ``stop()``; reconnect with exponential back-off when the broker goes."""
        failures = 0
        while not self._stopping.is_set():
            try:
                self._consume_once()
                failures = 0
            except pika.exceptions.AMQPError as exc:
                if self._stopping.is_set():
                    break
                failures += 1
                wait = min(_MAX_RECONNECT_WAIT_SECONDS, 0.5 * 2**failures)
                logger.warning("RabbitMQ connection lost (%r); reconnecting in %.1f s", exc, wait)
                self._stopping.wait(wait)
        self._executor.shutdown(wait=True)
        logger.info("worker stopped")

    def stop(self) -> None:
        """Ask the consumer to finish what it holds and return from ``run()``. Signal-safe."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        connection = self._connection
        if connection is not None and connection.is_open:
            with contextlib.suppress(pika.exceptions.AMQPError):
                connection.add_callback_threadsafe(self._cancel_consumer)

    def _consume_once(self) -> None:
        params = pika.URLParameters(str(self._settings.amqp_url))
        params.client_properties = {"connection_name": "snapmatch-worker"}
        self._connection = connection = pika.BlockingConnection(params)
        try:
            self._channel = channel = connection.channel()
            channel.queue_declare(
                self._settings.task_queue,
                durable=True,
                arguments=task_queue_arguments(self._settings.queue_delivery_limit),
            )
            channel.basic_qos(prefetch_count=self._settings.worker_prefetch)
            channel.basic_consume(self._settings.task_queue, on_message_callback=self._on_message)
            self._touch_heartbeat_file()
            logger.info(
                "consuming %r (prefetch %d)",
                self._settings.task_queue,
                self._settings.worker_prefetch,
            )
            if not self._stopping.is_set():
                channel.start_consuming()
            self._drain(connection)
        finally:
            if connection.is_open:
                connection.close()
            self._connection = self._channel = None

    def _cancel_consumer(self) -> None:
        # pika runs this thread-safe callback before dispatching the deliveries read in the
        # same cycle, and cancelling rejects undispatched deliveries back to the queue (a
        # needless redelivery). Cancel one cycle later, once they are dispatched and held.
        connection = self._connection
        if connection is not None and connection.is_open:
            connection.call_later(0, self._stop_consuming)

    def _stop_consuming(self) -> None:
        if self._channel is not None and self._channel.is_open:
            self._channel.stop_consuming()

    def _drain(self, connection: pika.BlockingConnection) -> None:
        """After consuming stopped: let held tasks finish and their acks go out, within bounds."""
        deadline = time.monotonic() + self._settings.worker_shutdown_timeout_seconds
        while self._in_flight and time.monotonic() < deadline:
            connection.process_data_events(time_limit=0.1)
        if self._in_flight:
            logger.warning(
                "%d task(s) unfinished at shutdown; the broker will redeliver them",
                len(self._in_flight),
            )

    # --- message handling -----------------------------------------------------------------
    def _on_message(
        self,
        channel: BlockingChannel,
        method: Basic.Deliver,
        properties: BasicProperties,
        body: bytes,
    ) -> None:
        headers: dict[str, Any] = properties.headers or {}
        delivery = Delivery(body=body, delivery_count=int(headers.get("x-delivery-count", 0)))
        future = self._executor.submit(self._process, channel, method.delivery_tag, delivery)
        self._in_flight.add(future)
        future.add_done_callback(self._in_flight.discard)

    def _process(self, channel: BlockingChannel, delivery_tag: int, delivery: Delivery) -> None:
        """Runs on the processing thread. Acks only once the result is stored."""
        try:
            self._handle_with_store_retries(delivery)
        except Exception:
            logger.exception("task processing failed; returning the message to the queue")
            self._threadsafe(channel, functools.partial(_nack_requeue, channel, delivery_tag))
            return
        self._threadsafe(channel, functools.partial(_ack, channel, delivery_tag))

    def _handle_with_store_retries(self, delivery: Delivery) -> None:
        """Redis outages are waited out while holding the message; give up only on shutdown."""
        for attempt in Retrying(
            retry=retry_if_exception_type(RedisError),
            wait=wait_exponential(multiplier=0.2, max=5.0),
            stop=stop_when_event_set(self._stopping),
            reraise=True,
            before_sleep=lambda state: logger.warning(
                "result store unavailable (%s); retrying",
                state.outcome and state.outcome.exception(),
            ),
        ):
            with attempt:
                self._processor.handle(delivery)

    def _threadsafe(self, channel: BlockingChannel, callback: Any) -> None:
        connection = self._connection
        if connection is None or not connection.is_open:
            logger.warning("connection gone before ack; the broker will redeliver the task")
            return
        try:
            connection.add_callback_threadsafe(callback)
        except pika.exceptions.AMQPError:
            logger.warning("connection closed before ack; the broker will redeliver the task")

    def _touch_heartbeat_file(self) -> None:
        path: Path = self._settings.worker_heartbeat_file
        try:
            path.touch()
        except OSError:
            logger.debug("cannot touch heartbeat file %s", path)
        if self._connection is not None and self._connection.is_open:
            self._connection.call_later(
                _HEARTBEAT_FILE_INTERVAL_SECONDS, self._touch_heartbeat_file
            )


def _ack(channel: BlockingChannel, delivery_tag: int) -> None:
    if channel.is_open:
        channel.basic_ack(delivery_tag)


def _nack_requeue(channel: BlockingChannel, delivery_tag: int) -> None:
    if channel.is_open:
        channel.basic_nack(delivery_tag, requeue=True)
