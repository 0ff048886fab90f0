"""Publishing tasks to RabbitMQ with publisher confirms."""

import asyncio

import aio_pika
import structlog
from aio_pika.abc import AbstractChannel
from aio_pika.exceptions import AMQPError, DeliveryError, PublishError
from pamqp.commands import Basic

from app.core.metrics import GatewayMetrics
from app.tasks.broker_connection import BrokerConnection
from config import Settings
from contracts.queue import TASK_CONTENT_TYPE, TASK_MESSAGE_TYPE, task_topology

logger = structlog.stdlib.get_logger(__name__)

_QUEUE_COUNTS_TIMEOUT_SECONDS = 2.0
# A task message beyond its photo: ids, content type, timestamps (protobuf), generously.
_MESSAGE_OVERHEAD_BYTES = 64 * 1024


class BrokerUnavailableError(Exception):
    """The broker did not confirm the message; the client should retry later."""


class QueueFullError(BrokerUnavailableError):
    """The broker nacked the message and the task queue is at its length or size bound."""


class TaskPublisher:
    """Publishes each task and waits for the broker's confirm, over ``BrokerConnection``:
    while no node answers, publishes fail at once (503) and ``is_ready`` is false; a publish
    caught by a lost connection answers 503, never a 202 the broker did not confirm."""

    def __init__(self, settings: Settings, metrics: GatewayMetrics | None = None) -> None:
        self._settings = settings
        self._metrics = metrics or GatewayMetrics()
        self._broker = BrokerConnection(settings, prepare=self._declare_topology)

    async def start(self, *, wait_seconds: float = 2.0) -> None:
        """Start connecting; wait a little so a healthy broker is ready before traffic."""
        await self._broker.start(wait_seconds=wait_seconds)

    async def _declare_topology(self, channel: AbstractChannel) -> None:
        """The task queue and its dead-letter side (``contracts.queue``), declared here too
        so that no dead letter is dropped before the first worker has started."""
        topology = task_topology(self._settings)
        for exchange in topology.exchanges:
            await channel.declare_exchange(
                exchange.name, aio_pika.ExchangeType(exchange.type), durable=exchange.durable
            )
        for queue in topology.queues:
            declared = await channel.declare_queue(
                queue.name, durable=queue.durable, arguments=queue.arguments
            )
            for exchange_name in queue.bound_to:
                await declared.bind(exchange_name)

    @property
    def is_ready(self) -> bool:
        return self._broker.is_ready

    async def publish(self, body: bytes, *, task_id: str) -> None:
        """Return only once the broker has confirmed the persistent message."""
        with self._metrics.time_publish():
            await self._publish(body, task_id=task_id)

    async def _publish(self, body: bytes, *, task_id: str) -> None:
        channel = self._broker.channel
        if channel is None or not self.is_ready:
            raise BrokerUnavailableError("not connected to RabbitMQ")
        message = aio_pika.Message(
            body,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            content_type=TASK_CONTENT_TYPE,
            type=TASK_MESSAGE_TYPE,
            message_id=task_id,
        )
        try:
            await asyncio.wait_for(
                channel.default_exchange.publish(
                    message, routing_key=self._settings.task_queue, mandatory=True
                ),
                timeout=self._settings.publish_timeout_seconds,
            )
        except TimeoutError as exc:
            raise BrokerUnavailableError("RabbitMQ did not confirm the task in time") from exc
        except PublishError as exc:
            raise BrokerUnavailableError(f"RabbitMQ could not route the task: {exc}") from exc
        except DeliveryError as exc:
            if isinstance(exc.frame, Basic.Nack):
                raise await self._refusal(channel) from exc
            raise BrokerUnavailableError(f"RabbitMQ refused the task: {exc}") from exc
        except (AMQPError, OSError, ConnectionError, RuntimeError) as exc:
            raise BrokerUnavailableError(f"RabbitMQ connection problem: {exc}") from exc

    async def _refusal(self, channel: AbstractChannel) -> BrokerUnavailableError:
        """Why RabbitMQ nacked the task, which AMQP does not say: a queue at its bound, or a
        queue that could not take it (a quorum queue between leaders, after a node was lost).

        The queue's length tells them apart: below ``_full_below()`` neither bound can have
        been reached. A refusal of the second kind also renews the channel (see
        ``BrokerConnection.renew_channel``).
        """
        counts = await self.queue_counts()
        if counts is not None and counts[0] >= self._full_below():
            return QueueFullError("the task queue is full")
        await self._broker.renew_channel(channel)
        return BrokerUnavailableError("RabbitMQ could not take the task into its queue")

    def _full_below(self) -> int:
        """Fewest waiting tasks at which the queue may be at a bound: its length, or its bytes
        filled with the largest uploads, less a tenth for tasks taken by workers meanwhile."""
        by_bytes = self._settings.queue_max_bytes // (
            self._settings.max_upload_bytes + _MESSAGE_OVERHEAD_BYTES
        )
        bound = min(self._settings.queue_max_length, by_bytes)
        return bound - bound // 10

    async def queue_counts(self) -> tuple[int, int] | None:
        """(ready messages, consumers) of the task queue, or None when the broker is away.

        A passive declare on a short-lived channel of its own: the publishing channel is
        never put at risk by a failed declare.
        """
        connection = self._broker.connection
        if connection is None or not self.is_ready:
            return None
        try:
            async with asyncio.timeout(_QUEUE_COUNTS_TIMEOUT_SECONDS):
                channel = await connection.channel(publisher_confirms=False)
                try:
                    queue = await channel.declare_queue(self._settings.task_queue, passive=True)
                    result = queue.declaration_result
                    return int(result.message_count or 0), int(result.consumer_count or 0)
                finally:
                    await channel.close()
        except (TimeoutError, AMQPError, OSError, ConnectionError, RuntimeError) as exc:
            logger.warning("cannot read the task queue's counts", error=str(exc))
            return None

    async def close(self) -> None:
        await self._broker.close()
