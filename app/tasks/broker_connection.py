"""The gateway's one RabbitMQ connection: to one node of the cluster at a time, re-made in the
background when it is lost, with the confirming channel that publishes the tasks.

Apart from the publisher, as the worker keeps its reconnect loop apart from its consumer: the
publisher knows messages; this knows that nodes die. A refused or lost connection moves on to
the next configured node at once (``config.brokers``); only when every node has refused does it
wait before the next round. The gateway starts, and reports not-ready, while no node answers.
"""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import aio_pika
import structlog
from aio_pika.abc import AbstractChannel, AbstractConnection
from aio_pika.exceptions import AMQPError, ChannelPreconditionFailed

from config import Settings
from config.brokers import BrokerAddresses
from contracts.queue import queue_mismatch_hint

logger = structlog.stdlib.get_logger(__name__)

_RECONNECT_INTERVAL_SECONDS = 2.0
_CONNECT_TIMEOUT_SECONDS = 5.0

# Run on every new connection's channel before it is used (declares the topology).
Prepare = Callable[[AbstractChannel], Awaitable[None]]


class BrokerConnection:
    def __init__(self, settings: Settings, *, prepare: Prepare) -> None:
        self._settings = settings
        self._prepare = prepare
        self._addresses = BrokerAddresses(settings.broker_urls)
        self.connection: AbstractConnection | None = None
        self.channel: AbstractChannel | None = None
        self._connector: asyncio.Task[None] | None = None
        self._closing = False
        self._background: set[asyncio.Task[None]] = set()

    async def start(self, *, wait_seconds: float) -> None:
        """Start connecting; wait a little so a healthy broker is ready before traffic."""
        self._reconnect()
        assert self._connector is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._connector), wait_seconds)

    @property
    def is_ready(self) -> bool:
        connection, channel = self.connection, self.channel
        return (
            connection is not None
            and channel is not None
            and not connection.is_closed
            and not channel.is_closed
        )

    async def renew_channel(self, stale: AbstractChannel) -> None:
        """Publish on a new channel from now on, if ``stale`` is still the current one.

        RabbitMQ 3.10 remembers a quorum queue's leader per channel: a channel whose first
        publish met the queue between leaders keeps refusing every publish to it, even once a
        new leader serves, until the channel is replaced.
        """
        connection = self.connection
        if connection is None or stale is not self.channel:
            return
        try:
            async with asyncio.timeout(_CONNECT_TIMEOUT_SECONDS):
                channel = await self._open_channel(connection)
        except (AMQPError, OSError, ConnectionError, RuntimeError, TimeoutError) as exc:
            logger.warning("cannot open a new channel", error=str(exc) or type(exc).__name__)
            return
        if stale is self.channel:
            self.channel = channel
            logger.info("publishing on a new channel", node=self._addresses.current_node)
        with contextlib.suppress(AMQPError, OSError, ConnectionError, RuntimeError):
            await stale.close()

    async def close(self) -> None:
        self._closing = True
        if self._connector is not None and not self._connector.done():
            self._connector.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._connector
        if self.connection is not None:
            await self.connection.close()
            logger.info("RabbitMQ connection closed")

    # --- connecting -------------------------------------------------------------------------
    def _reconnect(self) -> None:
        self._connector = asyncio.create_task(self._connect_until_done(), name="amqp-connect")

    async def _connect_until_done(self) -> None:
        while not self._closing:
            node = self._addresses.current_node
            try:
                await self._connect(self._addresses.current)
            except ChannelPreconditionFailed:
                logger.error(queue_mismatch_hint(self._settings.task_queue))
                await asyncio.sleep(_RECONNECT_INTERVAL_SECONDS * 5)
                continue
            except (AMQPError, OSError, ConnectionError, TimeoutError) as exc:
                rounds = self._addresses.failed()
                logger.warning(
                    "RabbitMQ not reachable; retrying",
                    node=node,
                    error=str(exc) or type(exc).__name__,
                    retry_in_s=_RECONNECT_INTERVAL_SECONDS if rounds else 0,
                    next_node=self._addresses.current_node,
                )
                if rounds:
                    await asyncio.sleep(_RECONNECT_INTERVAL_SECONDS)
                continue
            self._addresses.connected()
            logger.info("connected to RabbitMQ", queue=self._settings.task_queue, node=node)
            return

    async def _connect(self, url: str) -> None:
        """Connect to ``url`` and prepare its channel; nothing is left open if a step fails."""
        connection = await aio_pika.connect(
            url,
            client_properties={"connection_name": "snapmatch-gateway"},
            timeout=_CONNECT_TIMEOUT_SECONDS,
        )
        try:
            channel = await self._open_channel(connection)
            await self._prepare(channel)
        except BaseException:
            await connection.close()
            raise
        connection.close_callbacks.add(self._on_connection_closed)
        self.connection, self.channel = connection, channel

    async def _open_channel(self, connection: AbstractConnection) -> AbstractChannel:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        channel.close_callbacks.add(self._on_channel_closed)
        return channel

    def _on_channel_closed(
        self, channel: AbstractChannel | None, exc: BaseException | None, /
    ) -> None:
        """The broker closed the publishing channel: start again on a new connection."""
        connection = self.connection
        if self._closing or channel is not self.channel or connection is None:
            return  # a renewed channel's predecessor, or the connection is closing anyway
        if not connection.is_closed:
            task = asyncio.create_task(connection.close(), name="amqp-close")
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    def _on_connection_closed(
        self, connection: AbstractConnection | None, exc: BaseException | None, /
    ) -> None:
        if self._closing or connection is not self.connection:
            return
        node = self._addresses.current_node
        self.connection = self.channel = None
        self._addresses.failed()
        logger.warning(
            "RabbitMQ connection lost; reconnecting",
            node=node,
            error=str(exc),
            next_node=self._addresses.current_node,
        )
        self._reconnect()
