"""Re-create the task queue when its arguments changed, keeping the tasks waiting in it.

RabbitMQ cannot change a queue's arguments in place: redeclaring ``tasks`` with new ones is
refused (406 PRECONDITION_FAILED), so the gateway and the worker stop with a pointer here.
This moves the waiting messages into a holding queue (each one confirmed before it is removed),
deletes and redeclares the queue, and moves them back. Stop the gateway and the workers first:
it refuses to delete a queue that still has consumers (their unacknowledged tasks would go
with it) or that received new messages meanwhile.

    python -m tools.queue_migration         (what `make migrate-queue` runs; a no-op when current)
"""

import logging
import sys

import pika
import pika.exceptions
import structlog
from pika.adapters.blocking_connection import BlockingChannel

from config import Settings, get_settings
from config.structured_logging import configure_logging
from contracts.queue import PRECONDITION_FAILED, task_topology

logger = structlog.stdlib.get_logger("tools.queue_migration")  # not __main__ under -m


class MigrationError(Exception):
    """The queue cannot be migrated safely now; the message says what to do."""


def migrate(settings: Settings) -> int:
    """Return how many waiting tasks were carried over (0 also when nothing had to change)."""
    task_queue = task_topology(settings).task_queue
    queue, arguments = task_queue.name, task_queue.arguments
    # Any node of a cluster will do: pika tries them in order.
    connection = pika.BlockingConnection([pika.URLParameters(url) for url in settings.broker_urls])
    try:
        try:
            connection.channel().queue_declare(queue, durable=True, arguments=arguments)
            logger.info("queue is up to date", queue=queue)
            return 0
        except pika.exceptions.ChannelClosedByBroker as exc:
            if exc.reply_code != PRECONDITION_FAILED:
                raise
        channel = connection.channel()
        channel.confirm_delivery()
        consumers = channel.queue_declare(queue, passive=True).method.consumer_count
        if consumers:
            raise MigrationError(
                f"queue {queue!r} has {consumers} consumer(s): stop the workers, then run again"
            )
        holding = f"{queue}.migrating"
        channel.queue_declare(holding, durable=True, arguments={"x-queue-type": "quorum"})
        moved = _move(channel, queue, holding)
        _delete_if_empty(channel, queue)
        channel.queue_declare(queue, durable=True, arguments=arguments)
        _move(channel, holding, queue)
        _delete_if_empty(channel, holding)
        logger.info("queue re-created", queue=queue, arguments=arguments, moved=moved)
        return moved
    finally:
        if connection.is_open:
            connection.close()


def _delete_if_empty(channel: BlockingChannel, queue: str) -> None:
    # Quorum queues do not support queue.delete's if-empty flag: check just before.
    waiting = channel.queue_declare(queue, passive=True).method.message_count
    if waiting:
        raise MigrationError(f"{waiting} message(s) arrived in {queue!r}; stop the gateway first")
    channel.queue_delete(queue)


def _move(channel: BlockingChannel, source: str, target: str) -> int:
    moved = 0
    while True:
        method, properties, body = channel.basic_get(source)
        if method is None:
            return moved
        channel.basic_publish(
            "", target, body, properties, mandatory=True
        )  # raises unless confirmed
        channel.basic_ack(method.delivery_tag)
        moved += 1


def main() -> int:
    settings = get_settings()
    configure_logging(settings.log_level, process="queue-migration")
    logging.getLogger("pika").setLevel(logging.WARNING)  # its connection chatter, as in the worker
    try:
        migrate(settings)
    except (MigrationError, pika.exceptions.AMQPError) as exc:
        logger.error("queue not migrated", error=str(exc) or repr(exc))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
