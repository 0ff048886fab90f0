"""Publishing tasks to RabbitMQ with publisher confirms over one robust connection."""

import asyncio
import contextlib

import aio_pika
import structlog
from aio_pika.abc import AbstractRobustChannel, AbstractRobustConnection
from aio_pika.exceptions import AMQPError, ChannelPreconditionFailed, DeliveryError, PublishError
from pamqp.commands import Basic

from app.core.metrics import GatewayMetrics
from config import Settings
from contracts.queue import (
    TASK_CONTENT_TYPE,
    TASK_MESSAGE_TYPE,
    queue_mismatch_hint,
    task_topology,
)

logger = structlog.stdlib.get_logger(__name__)

_RECONNECT_INTERVAL_SECONDS = 2.0
_QUEUE_COUNTS_TIMEOUT_SECONDS = 2.0


class BrokerUnavailableError(Exception):
    """The broker did not confirm the message; the client should retry later."""


class QueueFullError(BrokerUnavailableError):
    """The broker nacked the message: the task queue is at its length or size bound."""


class TaskPublisher:
    """Connects in the background and keeps reconnecting, so the gateway starts (and reports
    not-ready) even while RabbitMQ is down, and recovers on its own when it returns."""

    def __init__(self, settings: Settings, metrics: GatewayMetrics | None = None) -> None:
        self._settings = settings
        self._metrics = metrics or GatewayMetrics()
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractRobustChannel | None = None
        self._connector: asyncio.Task[None] | None = None

    async def start(self, *, wait_seconds: float = 2.0) -> None:
        """Start connecting; wait a little so a healthy broker is ready before traffic."""
        self._connector = asyncio.create_task(self._connect_until_done(), name="amqp-connect")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._connector), wait_seconds)

    async def _connect_until_done(self) -> None:
        while True:
            try:
                connection = await aio_pika.connect_robust(
                    str(self._settings.amqp_url),
                    client_properties={"connection_name": "snapmatch-gateway"},
                    reconnect_interval=_RECONNECT_INTERVAL_SECONDS,
                )
                channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
                assert isinstance(channel, AbstractRobustChannel)
                await self._declare_topology(channel)
            except ChannelPreconditionFailed:
                logger.error(queue_mismatch_hint(self._settings.task_queue))
                await connection.close()
                await asyncio.sleep(_RECONNECT_INTERVAL_SECONDS * 5)
                continue
            except (AMQPError, OSError, ConnectionError) as exc:
                logger.warning(
                    "RabbitMQ not reachable; retrying",
                    error=str(exc),
                    retry_in_s=_RECONNECT_INTERVAL_SECONDS,
                )
                await asyncio.sleep(_RECONNECT_INTERVAL_SECONDS)
                continue
            self._connection, self._channel = connection, channel
            logger.info("connected to RabbitMQ", queue=self._settings.task_queue)
            return

    async def _declare_topology(self, channel: AbstractRobustChannel) -> None:
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
        channel = self._channel
        connection = self._connection
        return (
            connection is not None
            and channel is not None
            and connection.connected.is_set()
            and not channel.is_closed
        )

    async def publish(self, body: bytes, *, task_id: str) -> None:
        """Return only once the broker has confirmed the persistent message."""
        with self._metrics.time_publish():
            await self._publish(body, task_id=task_id)

    async def _publish(self, body: bytes, *, task_id: str) -> None:
        channel = self._channel
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
                raise QueueFullError("the task queue is full") from exc
            raise BrokerUnavailableError(f"RabbitMQ refused the task: {exc}") from exc
        except (AMQPError, OSError, ConnectionError, RuntimeError) as exc:
            raise BrokerUnavailableError(f"RabbitMQ connection problem: {exc}") from exc

    async def queue_counts(self) -> tuple[int, int] | None:
        """(ready messages, consumers) of the task queue, or None when the broker is away.

        A passive declare on a short-lived channel of its own: the publishing channel is
        never put at risk by a failed declare.
        """
        connection = self._connection
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
        if self._connector is not None and not self._connector.done():
            self._connector.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._connector
        if self._connection is not None:
            await self._connection.close()
            logger.info("RabbitMQ connection closed")
