"""RabbitMQ consumer after pika's threaded-consumer pattern.

The connection's thread only does network I/O (so heartbeats keep flowing during inference);
one processing thread runs the model; acks go back to the connection's thread through
``add_callback_threadsafe``, the one thread-safe call of a BlockingConnection.
"""

import contextlib
import dataclasses
import functools
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pika
import pika.exceptions
import structlog
from pika.adapters.blocking_connection import BlockingChannel
from pika.spec import Basic, BasicProperties
from redis.exceptions import RedisError
from tenacity import Retrying, retry_if_exception_type, stop_when_event_set, wait_exponential

from config import Settings
from config.brokers import node_name
from contracts.queue import PRECONDITION_FAILED, Topology, task_topology
from worker.processor import Delivery, Outcome, TaskProcessor

logger = structlog.stdlib.get_logger(__name__)
_T = TypeVar("_T")

_HEARTBEAT_FILE_INTERVAL_SECONDS = 5.0
_MAX_REQUEUE_DELAY_SECONDS = 30.0


class TaskConsumer:
    """One connection's worth of consuming: declare, qos, consume, hand each message to the
    processing thread, ack once its result is stored. ``worker.queue.reconnect`` calls
    :meth:`consume` again after a lost connection."""

    def __init__(self, settings: Settings, processor: TaskProcessor) -> None:
        self._settings = settings
        self._processor = processor
        # One processing thread, or one per image a micro-batch can hold.
        self._executor = ThreadPoolExecutor(
            max_workers=settings.worker_batch_max_size, thread_name_prefix="inference"
        )
        self.stopping = threading.Event()
        self._connection: pika.BlockingConnection | None = None
        self._channel: BlockingChannel | None = None
        self._in_flight: set[Future[None]] = set()

    # --- lifecycle ------------------------------------------------------------------------
    def stop(self) -> None:
        """Ask the consumer to finish what it holds and return from ``consume()``. Signal-safe."""
        if self.stopping.is_set():
            return
        self.stopping.set()
        connection = self._connection
        if connection is not None and connection.is_open:
            with contextlib.suppress(pika.exceptions.AMQPError):
                connection.add_callback_threadsafe(self._cancel_consumer)

    def close(self) -> None:
        """Wait for the processing threads to finish (after the last ``consume``)."""
        self._executor.shutdown(wait=True)

    def consume(self, url: str, *, on_connected: Callable[[], None] = lambda: None) -> None:
        """Consume on a new connection to the node at ``url`` until ``stop()`` (returns) or the
        connection is refused or lost (raises pika's AMQPError, after the held tasks are
        drained). ``on_connected`` is called once the node has accepted the connection."""
        params = pika.URLParameters(url)
        params.client_properties = {"connection_name": "snapmatch-worker"}
        self._connection = connection = pika.BlockingConnection(params)
        on_connected()
        try:
            self._channel = channel = connection.channel()
            topology = task_topology(self._settings)
            declare_topology(channel, topology)
            channel.basic_qos(prefetch_count=self._settings.worker_prefetch)
            channel.basic_consume(topology.task_queue.name, on_message_callback=self._on_message)
            channel.basic_consume(
                topology.dead_letter_results_queue.name, on_message_callback=self._on_dead_letter
            )
            self._touch_heartbeat_file()
            logger.info(
                "consuming",
                queue=topology.task_queue.name,
                prefetch=self._settings.worker_prefetch,
                node=node_name(url),
            )
            if not self.stopping.is_set():
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
            self._channel.stop_consuming()  # cancels both consumers

    def _drain(self, connection: pika.BlockingConnection) -> None:
        """After consuming stopped: let held tasks finish and their acks go out, within bounds."""
        deadline = time.monotonic() + self._settings.worker_shutdown_timeout_seconds
        while self._in_flight and time.monotonic() < deadline:
            connection.process_data_events(time_limit=0.1)
        if self._in_flight:
            logger.warning(
                "tasks unfinished at shutdown; the broker will redeliver them",
                tasks=len(self._in_flight),
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
        delivery = Delivery(
            body=body,
            delivery_count=int(headers.get("x-delivery-count", 0)),
            redelivered=bool(method.redelivered),
        )
        self._submit(functools.partial(self._process, channel, method.delivery_tag, delivery))

    def _on_dead_letter(
        self,
        channel: BlockingChannel,
        method: Basic.Deliver,
        properties: BasicProperties,
        body: bytes,
    ) -> None:
        self._submit(
            functools.partial(self._process_dead_letter, channel, method.delivery_tag, body)
        )

    def _submit(self, work: Callable[[], None]) -> None:
        """Hand ``work`` to the processing thread, tracked so that shutdown can wait for it."""
        future = self._executor.submit(work)
        self._in_flight.add(future)
        future.add_done_callback(self._in_flight.discard)

    def _process(self, channel: BlockingChannel, delivery_tag: int, delivery: Delivery) -> None:
        """Runs on the processing thread. Acks only once the result is stored."""
        try:
            # A retry may follow a put that stored the result before failing (a replica that
            # did not confirm it): from the second attempt on, look for that result first.
            outcome = self._with_store_retries(
                self._processor.handle,
                delivery,
                retry_arg=dataclasses.replace(delivery, redelivered=True),
            )
        except Exception:
            if self._processor.is_last_delivery(delivery):
                logger.exception("task processing failed on its last delivery; dead-lettering")
                self._threadsafe(channel, functools.partial(_reject, channel, delivery_tag))
                return
            # Back off before the broker redelivers it, so a failing task does not spin.
            delay = min(_MAX_REQUEUE_DELAY_SECONDS, 0.5 * 2**delivery.delivery_count)
            logger.exception("task processing failed; returning it to the queue", delay_s=delay)
            requeue = functools.partial(_nack_requeue, channel, delivery_tag)
            self._threadsafe(channel, functools.partial(self._call_later, delay, requeue))
            return
        if outcome is Outcome.DROPPED:
            self._threadsafe(channel, functools.partial(_reject, channel, delivery_tag))
        else:
            self._threadsafe(channel, functools.partial(_ack, channel, delivery_tag))

    def _process_dead_letter(
        self, channel: BlockingChannel, delivery_tag: int, body: bytes
    ) -> None:
        """Runs on the processing thread: records ``failed`` for a task the broker gave up on."""
        try:
            self._with_store_retries(self._processor.handle_dead_letter, body)
        except Exception:
            logger.exception("could not record a dead-lettered task; it stays queued")
            self._threadsafe(channel, functools.partial(_nack_requeue, channel, delivery_tag))
            return
        self._threadsafe(channel, functools.partial(_ack, channel, delivery_tag))

    def _call_later(self, delay: float, callback: Callable[[], None]) -> None:
        connection = self._connection
        if connection is not None and connection.is_open:
            connection.call_later(delay, callback)

    def _with_store_retries(
        self, handler: Callable[[_T], Outcome], arg: _T, *, retry_arg: _T | None = None
    ) -> Outcome:
        """Redis outages are waited out while holding the message; give up only on shutdown.
        Attempts after the first get ``retry_arg`` when one is given."""
        for attempt in Retrying(
            retry=retry_if_exception_type(RedisError),
            wait=wait_exponential(multiplier=0.2, max=5.0),
            stop=stop_when_event_set(self.stopping),
            reraise=True,
            before_sleep=lambda state: logger.warning(
                "result store unavailable; retrying",
                error=str(state.outcome and state.outcome.exception()),
            ),
        ):
            with attempt:
                first = attempt.retry_state.attempt_number == 1
                return handler(arg if first or retry_arg is None else retry_arg)
        raise AssertionError("unreachable: tenacity reraises the last error")

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
            logger.debug("cannot touch the heartbeat file", path=str(path))
        if self._connection is not None and self._connection.is_open:
            self._connection.call_later(
                _HEARTBEAT_FILE_INTERVAL_SECONDS, self._touch_heartbeat_file
            )


def declare_topology(channel: BlockingChannel, topology: Topology) -> None:
    """Declare every exchange, queue and binding of ``topology`` (see ``contracts.queue``)."""
    for exchange in topology.exchanges:
        channel.exchange_declare(
            exchange.name, exchange_type=exchange.type, durable=exchange.durable
        )
    for queue in topology.queues:
        channel.queue_declare(queue.name, durable=queue.durable, arguments=queue.arguments)
        for exchange_name in queue.bound_to:
            channel.queue_bind(queue.name, exchange_name)


def is_precondition_failed(exc: pika.exceptions.AMQPError) -> bool:
    return (
        isinstance(exc, pika.exceptions.ChannelClosedByBroker)
        and exc.reply_code == PRECONDITION_FAILED
    )


def _ack(channel: BlockingChannel, delivery_tag: int) -> None:
    if channel.is_open:
        channel.basic_ack(delivery_tag)


def _nack_requeue(channel: BlockingChannel, delivery_tag: int) -> None:
    if channel.is_open:
        channel.basic_nack(delivery_tag, requeue=True)


def _reject(channel: BlockingChannel, delivery_tag: int) -> None:
    """Without requeue: RabbitMQ dead-letters the message to ``<queue>.dead``."""
    if channel.is_open:
        channel.basic_reject(delivery_tag, requeue=False)
